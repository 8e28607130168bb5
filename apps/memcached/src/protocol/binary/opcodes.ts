/** memcached binary protocol constants (protocol_binary.h). */
export const REQUEST_MAGIC = 0x80;
export const RESPONSE_MAGIC = 0x81;
export const HEADER_LENGTH = 24;

export const Op = {
  Get: 0x00,
  Set: 0x01,
  Add: 0x02,
  Replace: 0x03,
  Delete: 0x04,
  Increment: 0x05,
  Decrement: 0x06,
  Quit: 0x07,
  Flush: 0x08,
  GetQ: 0x09,
  Noop: 0x0a,
  Version: 0x0b,
  GetK: 0x0c,
  GetKQ: 0x0d,
  Append: 0x0e,
  Prepend: 0x0f,
  Stat: 0x10,
  SetQ: 0x11,
  AddQ: 0x12,
  ReplaceQ: 0x13,
  DeleteQ: 0x14,
  IncrementQ: 0x15,
  DecrementQ: 0x16,
  QuitQ: 0x17,
  FlushQ: 0x18,
  AppendQ: 0x19,
  PrependQ: 0x1a,
  Verbosity: 0x1b,
  Touch: 0x1c,
  Gat: 0x1d,
  GatQ: 0x1e,
  GatK: 0x23,
  GatKQ: 0x24,
} as const;

export const Status = {
  Success: 0x00,
  KeyNotFound: 0x01,
  KeyExists: 0x02,
  TooLarge: 0x03,
  InvalidArguments: 0x04,
  NotStored: 0x05,
  NonNumeric: 0x06,
  UnknownCommand: 0x81,
  OutOfMemory: 0x82,
} as const;

/** memcached's error texts, sent as the body of an error response. */
export function statusText(status: number): string {
  switch (status) {
    case Status.KeyNotFound:
      return 'Not found';
    case Status.KeyExists:
      return 'Data exists for key.';
    case Status.TooLarge:
      return 'Too large.';
    case Status.InvalidArguments:
      return 'Invalid arguments';
    case Status.NotStored:
      return 'Not stored.';
    case Status.NonNumeric:
      return 'Non-numeric server-side value for incr or decr';
    case Status.UnknownCommand:
      return 'Unknown command';
    case Status.OutOfMemory:
      return 'Out of memory';
    default:
      return 'Error';
  }
}
