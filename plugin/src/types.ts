/** The app's settings (provisioning/plugins/apps.yaml `jsonData`). */
export interface AppSettings {
  /** The Isoscope data source whose proxy the pages use, so the token lives in one place. */
  datasourceUid?: string;
  /** The dashboard with the per-host drill-down, linked from explanations. */
  hostDashboardUid?: string;
}
