import { Decimal } from 'decimal.js';
import { assert } from '../platform/errors.ts';

/** A block with its thresholds as numbers: covers (fromM3, toM3] of the basis volume. */
export interface BlockBounds {
  fromM3: Decimal;
  /** null: open-ended (the last block). */
  toM3: Decimal | null;
}

export interface BlockShare {
  /** 0-based index of the block in the tariff. */
  index: number;
  volumeM3: Decimal;
}

function isContiguousFromZero(blocks: BlockBounds[]): boolean {
  return blocks.every((b, i) => {
    const startsRight = i === 0 ? b.fromM3.isZero() : blocks[i - 1]!.toM3?.eq(b.fromM3) === true;
    // Monthly thresholds scaled to a short period may round to an empty block: allowed, it takes nothing.
    const endsRight = i === blocks.length - 1 ? b.toM3 === null : b.toM3?.gte(b.fromM3) === true;
    return startsRight && endsRight;
  });
}

/**
 * Splits a volume across blocks, given what earlier bills already used of the same basis
 * (the year's volume for annual blocks; 0 for monthly blocks). The volume fills
 * (usedM3, usedM3 + volumeM3] of the block scale; the shares sum to the volume exactly.
 * Blocks the volume does not reach are left out.
 */
export function splitIntoBlocks(volumeM3: Decimal, usedM3: Decimal, blocks: BlockBounds[]): BlockShare[] {
  assert(volumeM3.gte(0), 'volume must not be negative');
  assert(usedM3.gte(0), 'used volume must not be negative');
  assert(blocks.length > 0 && isContiguousFromZero(blocks), 'blocks must start at 0, join and end open');
  const start = usedM3;
  const end = usedM3.plus(volumeM3);
  const shares: BlockShare[] = [];
  blocks.forEach((b, index) => {
    const lo = Decimal.max(start, b.fromM3);
    const hi = b.toM3 === null ? end : Decimal.min(end, b.toM3);
    if (hi.gt(lo)) shares.push({ index, volumeM3: hi.minus(lo) });
  });
  const total = shares.reduce((s, x) => s.plus(x.volumeM3), new Decimal(0));
  assert(total.eq(volumeM3), 'block shares must add up to the volume');
  return shares;
}
