/**
 * Typed errors shared by every Ebb. Each carries a stable `code` so callers can
 * branch without parsing messages, and a message that names what was wrong.
 */
export class EbbrtError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A config or manifest field failed validation; `path` is the dotted field name. */
export class ConfigError extends EbbrtError {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super('EBBRT_CONFIG', `invalid config at ${path || '(root)'}: ${detail}`);
  }
}

/** An Ebb package could not be imported, or its manifest is wrong. */
export class PackageResolutionError extends EbbrtError {
  constructor(
    readonly packageName: string,
    readonly detail: string,
  ) {
    super('EBBRT_PACKAGE', `Ebb package "${packageName}": ${detail}`);
  }
}

/** An id space is unset or exhausted, or an id is outside the range it was used in. */
export class IdSpaceError extends EbbrtError {
  constructor(detail: string) {
    super('EBBRT_ID_SPACE', detail);
  }
}

/** An EbbRef was dereferenced where no core is executing (outside any event). */
export class NoCurrentCoreError extends EbbrtError {
  constructor(readonly ebbId: number) {
    super(
      'EBBRT_NO_CORE',
      `EbbRef(0x${ebbId.toString(16)}) dereferenced outside an event: no core is current. ` +
        'Run this code from an event (spawn) or from a test helper that enters a core.',
    );
  }
}

/** No root is installed for an id on this node, so a translation miss cannot be served. */
export class UnknownEbbError extends EbbrtError {
  constructor(
    readonly ebbId: number,
    readonly nodeId: number,
  ) {
    super('EBBRT_UNKNOWN_EBB', `no Ebb with id 0x${ebbId.toString(16)} is installed on node ${nodeId}`);
  }
}

/** A memory request could not be met; names the request and what is left. */
export class OutOfMemoryError extends EbbrtError {
  constructor(
    readonly request: string,
    readonly requestedBytes: number,
    readonly availableBytes: number,
  ) {
    super(
      'EBBRT_OOM',
      `out of memory: ${request} (${requestedBytes} bytes) cannot be met; ${availableBytes} bytes free`,
    );
  }
}

/** A free of an address that is not live (double free, or never allocated). */
export class InvalidFreeError extends EbbrtError {
  constructor(
    readonly address: number,
    readonly reason: string,
  ) {
    super('EBBRT_INVALID_FREE', `invalid free of 0x${address.toString(16)}: ${reason}`);
  }
}

/** A node is unreachable or dead; pending work addressed to it fails with this. */
export class NodeUnavailableError extends EbbrtError {
  constructor(
    readonly nodeId: number,
    readonly detail: string,
  ) {
    super('EBBRT_NODE_UNAVAILABLE', `node ${nodeId}: ${detail}`);
  }
}

/** An operation was used wrongly given the current state (e.g. a second idle callback). */
export class UsageError extends EbbrtError {
  constructor(detail: string) {
    super('EBBRT_USAGE', detail);
  }
}

/** A back-end node could not be allocated: booting failed, timed out, or it never reported back. */
export class NodeAllocationError extends EbbrtError {
  constructor(
    readonly detail: string,
    /** The underlying failure (a boot error from the platform, a crash of the image). */
    override readonly cause?: unknown,
  ) {
    super('EBBRT_NODE_ALLOCATION', detail);
  }
}

/**
 * A FileSystem call failed. `code` is the OS's (`ENOENT`, `EACCES`, `EISDIR`, ...) or one of
 * `EBBRT_FS_OUTSIDE_ROOT` (the path escapes the root: `..`, an absolute path or a symbolic link),
 * `EBBRT_FS_INVALID_PATH` (not a string, empty, or with a NUL byte), `EBBRT_FS_TOO_LARGE`;
 * `op` and `path` name the call, as the caller gave it.
 */
export class FileSystemError extends EbbrtError {
  constructor(
    code: string,
    readonly op: string,
    readonly path: string,
    readonly detail: string,
  ) {
    super(code, `${op} ${JSON.stringify(path)}: ${detail} (${code})`);
  }
}
