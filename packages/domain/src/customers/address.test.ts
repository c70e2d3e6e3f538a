import { describe, expect, it } from 'vitest';
import { formatAddress, parseAddress, shortAddress } from './address.ts';

describe('parseAddress (DOMAIN.md §2: district / community / building / unit / door)', () => {
  it('splits the usual counter form', () => {
    expect(parseAddress('金水区幸福小区3号楼2单元501室')).toEqual({
      district: '金水区',
      community: '幸福小区',
      building: '3',
      unit: '2',
      door: '501',
      detail: '',
    });
  });

  it('accepts 栋 and 幢, spaces, and drops province and city', () => {
    expect(parseAddress('河南省郑州市二七区 阳光花园 12栋 1单元 1202')).toMatchObject({
      district: '二七区',
      community: '阳光花园',
      building: '12',
      unit: '1',
      door: '1202',
    });
    expect(parseAddress('锦绣家园5幢3单元302')).toMatchObject({
      community: '锦绣家园',
      building: '5',
      unit: '3',
      door: '302',
    });
  });

  it('reads the dashed short form readers write: building-unit-door', () => {
    expect(parseAddress('幸福小区3-2-501')).toMatchObject({
      community: '幸福小区',
      building: '3',
      unit: '2',
      door: '501',
    });
    expect(parseAddress('管城区紫荆苑 10-1-101室')).toMatchObject({
      district: '管城区',
      community: '紫荆苑',
      building: '10',
      unit: '1',
      door: '101',
    });
  });

  it('does not take a community named …小区 for a district', () => {
    expect(parseAddress('幸福小区3栋2单元501').district).toBe('');
  });

  it('keeps what it cannot place as detail (roads and numbers)', () => {
    expect(parseAddress('中原区建设路150号')).toMatchObject({
      district: '中原区',
      detail: '建设路150号',
      building: '',
    });
  });

  it('formats back to the printed form and the reader’s short form', () => {
    const a = parseAddress('金水区幸福小区3号楼2单元501室');
    expect(formatAddress(a)).toBe('金水区幸福小区3栋2单元501室');
    expect(shortAddress(a)).toBe('3-2-501');
    expect(parseAddress(formatAddress(a))).toEqual(a);
  });
});
