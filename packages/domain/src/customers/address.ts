/** A supply or mailing address as readers check it: district / community / building / unit / door. */
export interface AddressParts {
  district: string;
  community: string;
  building: string;
  unit: string;
  door: string;
  /** Anything the parser could not place (road, number, landmark). */
  detail: string;
}

const EMPTY: AddressParts = { district: '', community: '', building: '', unit: '', door: '', detail: '' };

/**
 * Splits a Chinese address into its parts, as clerks type it and as old systems export it:
 *   "金水区幸福小区3号楼2单元501室", "幸福小区 3栋2单元501", "幸福小区3-2-501", "XX路18号".
 * Building and unit numbers keep their own text without the suffix (栋/号楼/幢/单元).
 */
export function parseAddress(input: string): AddressParts {
  let rest = input.replace(/\s+/g, '').replace(/[（(].*?[)）]/g, '');
  const parts: AddressParts = { ...EMPTY };
  // Province / city prefixes are dropped: every customer of an office is in the same city.
  rest = rest.replace(/^.{2,7}?(省|自治区)/, '').replace(/^.{2,8}?市(?!场)/, '');
  const district = /^(.{1,8}?(区|县|旗))/.exec(rest);
  if (district && !/(小区|园区|社区)$/.test(district[1]!)) {
    parts.district = district[1]!;
    rest = rest.slice(district[1]!.length);
  }
  // Dashed form: 3-2-501 or 3栋2-501 at the end.
  const dashed = /^(.*?)(\d+[A-Za-z]?)[-－—](\d+)[-－—](\d+[A-Za-z]?)(室|号)?$/.exec(rest);
  if (dashed) {
    parts.community = dashed[1]!.replace(/[-－]$/, '');
    parts.building = dashed[2]!;
    parts.unit = dashed[3]!;
    parts.door = dashed[4]!;
    return parts;
  }
  const building = /^(.*?)([0-9A-Za-z一二三四五六七八九十]+)(号楼|栋|幢|座|号院楼)/.exec(rest);
  if (building) {
    parts.community = building[1]!;
    parts.building = building[2]!;
    rest = rest.slice(building[0].length);
    const unit = /^([0-9A-Za-z一二三四五六七八九十]+)单元/.exec(rest);
    if (unit) {
      parts.unit = unit[1]!;
      rest = rest.slice(unit[0].length);
    }
    const door = /^([0-9A-Za-z]+)(室|号|户)?/.exec(rest);
    if (door) {
      parts.door = door[1]!;
      rest = rest.slice(door[0].length);
    }
    parts.detail = rest;
    return parts;
  }
  parts.detail = rest;
  return parts;
}

/** The address as printed on a bill notice and shown in search results. */
export function formatAddress(a: Partial<AddressParts>): string {
  return [
    a.district ?? '',
    a.community ?? '',
    a.building ? `${a.building}栋` : '',
    a.unit ? `${a.unit}单元` : '',
    a.door ? `${a.door}室` : '',
    a.detail ?? '',
  ].join('');
}

/** The short form readers write in the book: building-unit-door. */
export function shortAddress(a: Partial<AddressParts>): string {
  return [a.building, a.unit, a.door].filter((x) => x).join('-');
}
