/** One alert as Isoscope raises it: firing while an entity's detector keeps finding anomalies, then resolved. */
export interface AlertEvent {
  status: 'firing' | 'resolved';
  detector: string;
  entity: string;
  severity: string;
  /** The highest score while firing. */
  score: number;
  startsAt: number;
  /** Set when resolved. */
  endsAt?: number;
  /** Top contributions at the peak, for the person on call. */
  topFeatures: Array<{ feature: string; share: number }>;
  /** Link to the explanation drill-down in Grafana. */
  link: string;
}

/** Somewhere alerts go. A delivery that throws is retried by the queue. */
export interface AlertReceiver {
  readonly name: string;
  send(events: AlertEvent[]): Promise<void>;
}

export class ReceiverError extends Error {
  override readonly name = 'ReceiverError';
  constructor(
    message: string,
    /** 4xx: the receiver refuses this payload; retrying cannot help. */
    readonly permanent: boolean,
  ) {
    super(message);
  }

  get code(): 'RECEIVER_REFUSED' | 'RECEIVER_UNAVAILABLE' {
    return this.permanent ? 'RECEIVER_REFUSED' : 'RECEIVER_UNAVAILABLE';
  }
}
