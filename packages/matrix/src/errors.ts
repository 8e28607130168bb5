import { EbbrtError } from '@ebbrt/interfaces';

/** A matrix operation that cannot be done as asked (bad shape, freed matrix, bad option). */
export class MatrixError extends EbbrtError {
  constructor(message: string, code = 'MATRIX') {
    super(code, message);
  }
}

/**
 * A tile was lost or could not be reached: names the matrix, the tile and its node. The matrix
 * that held it is broken from then on (its other nodes are freed).
 */
export class MatrixTileError extends EbbrtError {
  constructor(
    message: string,
    readonly matrix: number,
    readonly tile: readonly [number, number],
    readonly node: number,
  ) {
    super('MATRIX_TILE', message);
  }
}

/** A malformed matrix message (short header, ragged payload). */
export class ProtocolError extends EbbrtError {
  constructor(message: string) {
    super('MATRIX_PROTOCOL', message);
  }
}
