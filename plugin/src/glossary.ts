/**
 * The words the pages use, each in a sentence an operator reads in seconds. docs/glossary.md says
 * the same (glossary.test.ts keeps the two in step); the pages show the terms they use in their help.
 */
export const GLOSSARY = {
  detector: 'What Isoscope watches: one Telegraf measurement (or fields you name), read every interval, per host.',
  entity: 'One thing a detector scores separately, usually a host (the value of its host tag).',
  score:
    'How unusual a moment is, from 0 to 1, judged against the recent normal moments of the same series: 0.5 is the alert threshold on every series and host; the closer to 1, the rarer.',
  threshold:
    'The score above which a moment is flagged as anomalous: 0.5 everywhere, set by the alert budget of the detector (how many alerts a day normal data may raise), unless a detector fixes its own.',
  anomalous: 'Flagged: the score is above the threshold.',
  severity: 'How far above the threshold a flagged moment is: low, medium, high or critical.',
  stretch:
    'A run of consecutive flagged moments of one entity. "Explain" opens the peak of its smoothed score: the moment most typical of the stretch, not a one-minute blip.',
  incident:
    'What the person on call meets: the flagged moments of one entity, fewer than 10 intervals apart, firing until 10 quiet intervals in a row resolve it. "Explain" opens its peak: where its score, averaged over 5 points, was highest.',
  verdict:
    'What an operator said of an incident: real (worth the page), expected (planned or known: a deploy, a load test) or not an anomaly (normal behaviour flagged). Exported as labels for isoscope evaluate.',
  'suppression rule':
    'A window (every day, every week, or one maintenance period, in UTC) in which flagged moments of a detector, entity or metric do not page. They are still scored and make incidents; an incident wholly inside rules is marked suppressed.',
  feature:
    'One number the model looks at: a field as it is, or derived from it, such as "usage_user, vs its last hour" (how far the value is from its own last hour) or "usage_user, 1 minute earlier".',
  contribution:
    'How much one feature pushed a moment towards anomalous (to the right) or normal (to the left), as a share of all features.',
  'training range':
    'Where a feature usually lay in the recent normal moments the model learns from: the 5th to 95th percentile. A value outside it is shown in red.',
  'learnt range':
    "The values the model's trees split a feature within. A value beyond it is set apart at the first split on that feature, which is what makes such a moment stand out.",
  'training window': 'The past data a model learns normal from, by default the last 7 days.',
  model: 'What learnt normal for one entity (or for all, with one shared model): an isolation forest.',
  version: 'One trained model. Training again makes a new version; older ones stay, so you can go back.',
  stage:
    'Where a version is: candidate (just trained, scores nothing), staging (scores in the shadow, for comparison), production (its scores are the results and alerts), archived.',
  'not scored':
    'An entity with no version in production: nothing scores it, so it has no results and no alerts until an admin promotes a version.',
  promote:
    'Move a version to production, with a reason the stage history keeps. The previous production version is archived.',
  'roll back': 'Put the version before the current production one back into production.',
  backfill: 'Score past data with the production models, to see results for a time before they were promoted.',
  drift:
    'Live data no longer looks like the training window: a sign the model should be trained again. Five tests vote per feature.',
  'isolation forest':
    'The model: random trees that split the data until each point stands alone. Unusual points stand alone after few splits, which is what makes their score high.',
} as const;

export type Term = keyof typeof GLOSSARY;
