/** The service's version, reported to Grafana's health check and in /docs. */
export const VERSION = '0.1.0';
