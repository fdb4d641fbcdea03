/**
 * Progress on stderr for jobs that take a while, only when stderr is a terminal: silent for the
 * first second, so quick runs stay quiet, then one line per stage redrawn in place. When stderr is
 * a file, a pipe or a CI log it writes nothing, so what a script captures does not depend on how
 * long the run took (stderr then carries only errors and warnings).
 */
export class Progress {
  private readonly started: number;
  private lastDrawn = 0;
  private pendingNewline = false;
  private currentStage = '';

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly delayMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** Reports `done` of `total` units of the current stage. */
  update(stage: string, done: number, total: number): void {
    if (this.stream.isTTY !== true) return;
    const t = this.now();
    if (t - this.started < this.delayMs) return;
    if (stage !== this.currentStage) {
      this.currentStage = stage;
      this.lastDrawn = 0;
    }
    const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
    // Redraw at most ten times a second, but always show a stage's end.
    if (t - this.lastDrawn < 100 && percent < 100) return;
    this.lastDrawn = t;
    const text = `${stage}: ${percent}% (${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}) ${((t - this.started) / 1000).toFixed(1)}s`;
    this.stream.write(`\r\x1b[K${text}`);
    this.pendingNewline = true;
  }

  /** Ends the progress line so that what follows starts on a fresh line. */
  finish(): void {
    if (this.pendingNewline) this.stream.write('\n');
    this.pendingNewline = false;
  }
}
