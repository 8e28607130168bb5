import { EbbIdRanges, IdSpaceError, type EbbId } from '@ebbrt/interfaces';

const LOCAL_COUNT = EbbIdRanges.lastLocal - EbbIdRanges.firstLocal + 1;
const SPACE_SIZE = 1 << EbbIdRanges.spaceShift;

/**
 * Hands out EbbIds on one node without coordinating with any other node.
 * Local ids: the lowest free id in [firstLocal, lastLocal]. Global ids: from the
 * id space N the front-end assigned this node, [N << 16, (N + 1) << 16), so two
 * nodes with different spaces never collide.
 */
export class EbbAllocator {
  /** One bit per local id (a byte each was 32 KiB per node: most of an idle node's boot). */
  private readonly localUsed = new Uint32Array((LOCAL_COUNT + 31) >>> 5);
  /** No local id below firstLocal + lowestMaybeFree is free. */
  private lowestMaybeFree = 0;
  private space: number | undefined;
  private nextGlobal = 0;
  private readonly freedGlobal: EbbId[] = [];

  constructor(idSpace?: number) {
    if (idSpace !== undefined) this.setIdSpace(idSpace);
  }

  allocateLocal(): EbbId {
    for (let i = this.lowestMaybeFree; i < LOCAL_COUNT; i++) {
      if ((this.localUsed[i >>> 5]! & (1 << (i & 31))) === 0) {
        this.localUsed[i >>> 5]! |= 1 << (i & 31);
        this.lowestMaybeFree = i + 1;
        return EbbIdRanges.firstLocal + i;
      }
    }
    throw new IdSpaceError(
      `local EbbId space exhausted: all ${LOCAL_COUNT} ids in ` +
        `[0x${EbbIdRanges.firstLocal.toString(16)}, 0x${EbbIdRanges.lastLocal.toString(16)}] are in use`,
    );
  }

  freeLocal(id: EbbId): void {
    const i = id - EbbIdRanges.firstLocal;
    if (!Number.isInteger(i) || i < 0 || i >= LOCAL_COUNT) {
      throw new IdSpaceError(`freeLocal(0x${id.toString(16)}): not a local id`);
    }
    if ((this.localUsed[i >>> 5]! & (1 << (i & 31))) === 0) {
      throw new IdSpaceError(`freeLocal(0x${id.toString(16)}): id is not allocated`);
    }
    this.localUsed[i >>> 5]! &= ~(1 << (i & 31));
    if (i < this.lowestMaybeFree) this.lowestMaybeFree = i;
  }

  /** Assigns this node's global id space (done once, at boot, by the front-end). */
  setIdSpace(space: number): void {
    if (!Number.isInteger(space) || space < 1 || space > EbbIdRanges.maxSpace) {
      throw new IdSpaceError(`id space ${space} is invalid: it must be an integer in [1, ${EbbIdRanges.maxSpace}]`);
    }
    if (this.space !== undefined && this.space !== space) {
      throw new IdSpaceError(`id space is already ${this.space}; cannot change it to ${space}`);
    }
    this.space = space;
  }

  get idSpace(): number | undefined {
    return this.space;
  }

  allocateGlobal(): EbbId {
    if (this.space === undefined) {
      throw new IdSpaceError('global EbbId space is unset on this node: the front-end assigns it at boot');
    }
    const reused = this.freedGlobal.pop();
    if (reused !== undefined) return reused;
    if (this.nextGlobal >= SPACE_SIZE) {
      throw new IdSpaceError(`global EbbId space ${this.space} exhausted: all ${SPACE_SIZE} ids are in use`);
    }
    // Multiply rather than shift: space << 16 overflows int32 for spaces >= 0x8000.
    return this.space * SPACE_SIZE + this.nextGlobal++;
  }

  freeGlobal(id: EbbId): void {
    if (this.space === undefined || Math.floor(id / SPACE_SIZE) !== this.space) {
      throw new IdSpaceError(`freeGlobal(0x${id.toString(16)}): not in this node's id space ${this.space}`);
    }
    const offset = id - this.space * SPACE_SIZE;
    if (offset >= this.nextGlobal || this.freedGlobal.includes(id)) {
      throw new IdSpaceError(`freeGlobal(0x${id.toString(16)}): id is not allocated`);
    }
    this.freedGlobal.push(id);
  }
}
