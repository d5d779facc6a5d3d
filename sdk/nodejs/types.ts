/** A controller registered in the sync database. */
export interface ControllerStatus {
  readonly name: string;
  readonly lastHeartbeat?: string;
}
