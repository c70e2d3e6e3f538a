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

/** A block's thresholds in whole thousandths of a m³: covers (from, to]; to null: open-ended. */
export interface MilliBlockBounds {
  from: number;
  to: number | null;
}

export interface MilliBlockShare {
  /** 0-based index of the block in the tariff. */
  index: number;
  milli: number;
}

function isContiguousFromZero(blocks: readonly MilliBlockBounds[]): boolean {
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    const startsRight = i === 0 ? b.from === 0 : blocks[i - 1]!.to === b.from;
    // Monthly thresholds scaled to a short period may round to an empty block: allowed, it takes nothing.
    const endsRight = i === blocks.length - 1 ? b.to === null : b.to !== null && b.to >= b.from;
    if (!startsRight || !endsRight) return false;
  }
  return true;
}

/**
 * Splits a volume across blocks, given what earlier bills already used of the same basis
 * (the year's volume for annual blocks; 0 for monthly blocks), all in whole thousandths of a m³.
 * The volume fills (used, used + volume] of the block scale; the shares sum to the volume exactly.
 * Blocks the volume does not reach are left out.
 */
export function splitMilliIntoBlocks(
  volume: number,
  used: number,
  blocks: readonly MilliBlockBounds[],
): MilliBlockShare[] {
  assert(Number.isSafeInteger(volume) && volume >= 0, 'volume must be whole thousandths, not negative');
  assert(Number.isSafeInteger(used) && used >= 0, 'used volume must be whole thousandths, not negative');
  assert(blocks.length > 0 && isContiguousFromZero(blocks), 'blocks must start at 0, join and end open');
  const end = used + volume;
  assert(Number.isSafeInteger(end), 'used and billed volume must stay below 2^53 thousandths');
  const shares: MilliBlockShare[] = [];
  let total = 0;
  for (let index = 0; index < blocks.length; index++) {
    const b = blocks[index]!;
    const lo = Math.max(used, b.from);
    const hi = b.to === null || end < b.to ? end : b.to;
    if (hi > lo) {
      shares.push({ index, milli: hi - lo });
      total += hi - lo;
    }
  }
  assert(total === volume, 'block shares must add up to the volume');
  return shares;
}

function milliOfDecimal(value: Decimal): number {
  const milli = value.times(1000);
  assert(milli.isInteger(), 'volumes have at most 3 decimals');
  return milli.toNumber();
}

/** splitMilliIntoBlocks for volumes and thresholds as decimals (at most 3 decimals each). */
export function splitIntoBlocks(volumeM3: Decimal, usedM3: Decimal, blocks: BlockBounds[]): BlockShare[] {
  return splitMilliIntoBlocks(
    milliOfDecimal(volumeM3),
    milliOfDecimal(usedM3),
    blocks.map((b) => ({
      from: milliOfDecimal(b.fromM3),
      to: b.toM3 === null ? null : milliOfDecimal(b.toM3),
    })),
  ).map((s) => ({ index: s.index, volumeM3: new Decimal(s.milli).div(1000) }));
}
