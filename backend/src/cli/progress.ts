/**
 * Progress on stderr for jobs that take a while. Silent for the first second, so quick runs stay
 * quiet; then one line per stage, redrawn in place on a terminal, and every 10 % otherwise (logs
 * of CI jobs should not fill with carriage returns).
 */
export class Progress {
  private readonly started: number;
  private lastDrawn = 0;
  private lastPercent = -1;
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
    const t = this.now();
    if (t - this.started < this.delayMs) return;
    if (stage !== this.currentStage) {
      this.currentStage = stage;
      this.lastPercent = -1;
      this.lastDrawn = 0;
    }
    const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
    const tty = this.stream.isTTY === true;
    if (
      tty
        ? t - this.lastDrawn < 100 && percent < 100
        : Math.floor(percent / 10) === Math.floor(this.lastPercent / 10)
    ) {
      return;
    }
    this.lastDrawn = t;
    this.lastPercent = percent;
    const text = `${stage}: ${percent}% (${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}) ${((t - this.started) / 1000).toFixed(1)}s`;
    if (tty) {
      this.stream.write(`\r\x1b[K${text}`);
      this.pendingNewline = true;
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  /** Ends the progress line so that what follows starts on a fresh line. */
  finish(): void {
    if (this.pendingNewline) this.stream.write('\n');
    this.pendingNewline = false;
  }
}
