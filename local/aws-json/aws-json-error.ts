/** An error answer of a local AWS service: its code (`__type` on the wire), message and HTTP status. */
export class AwsJsonError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}
