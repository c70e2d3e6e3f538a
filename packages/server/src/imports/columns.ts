/**
 * The import file's columns (docs/import-format.md): one row is one customer with one supply
 * address, one service point and at most one meter. Headers are matched in Chinese or English,
 * ignoring case, spaces, underscores, hyphens, a required-marker * and a bracketed unit such as
 * 口径(DN) or 初始读数（m³）.
 */

export const COLUMN_KEYS = [
  'customer_code',
  'kind',
  'name',
  'id_card_no',
  'credit_code',
  'contact_name',
  'phone',
  'phone2',
  'district',
  'community',
  'building',
  'unit',
  'door',
  'floor',
  'address',
  'meter_location',
  'meter_box_no',
  'usage_type',
  'utility',
  'meter_no',
  'caliber_dn',
  'flow_rating_m3h',
  'make',
  'model',
  'install_date',
  'seal_no',
  'mounting',
  'meter_role',
  'master_meter_no',
  'ic_card',
  'initial_index',
  'state',
  'low_income_m3',
  'connected_on',
  'bank_name',
  'bank_account',
  'remarks',
] as const;
export type ColumnKey = (typeof COLUMN_KEYS)[number];

export interface ColumnDef {
  key: ColumnKey;
  /** The header the template uses. */
  zh: string;
  /** Other Chinese headers old systems and clerks use for the same column. */
  aliases: readonly string[];
  /** The value in the template's example row. */
  example: string;
  /** Keep as text in the XLSX template (leading zeros, long digit strings). */
  text?: boolean;
}

export const COLUMNS: readonly ColumnDef[] = [
  { key: 'customer_code', zh: '用户编号', aliases: ['户号', '客户编号', '用户号'], example: '', text: true },
  { key: 'kind', zh: '用户类型', aliases: ['用户类别', '客户类型'], example: '个人' },
  { key: 'name', zh: '用户名称', aliases: ['户名', '用户名', '客户名称', '姓名'], example: '张三' },
  {
    key: 'id_card_no',
    zh: '身份证号',
    aliases: ['身份证号码', '身份证', 'idcard', 'idcardnumber'],
    example: '11010519491231002X',
    text: true,
  },
  {
    key: 'credit_code',
    zh: '统一社会信用代码',
    aliases: ['信用代码', '社会信用代码', 'creditcode'],
    example: '',
    text: true,
  },
  { key: 'contact_name', zh: '联系人', aliases: ['联系人姓名', 'contact'], example: '张三' },
  {
    key: 'phone',
    zh: '联系电话',
    aliases: ['电话', '手机', '手机号', '手机号码', '电话号码', 'phone1', 'mobile'],
    example: '13800138000',
    text: true,
  },
  { key: 'phone2', zh: '备用电话', aliases: ['联系电话2', '电话2', '其他电话'], example: '', text: true },
  { key: 'district', zh: '区县', aliases: ['行政区', '所属区', '区'], example: '金水区' },
  { key: 'community', zh: '小区', aliases: ['小区名称', '小区名'], example: '幸福小区' },
  { key: 'building', zh: '楼栋', aliases: ['楼号', '栋号', '栋'], example: '3', text: true },
  { key: 'unit', zh: '单元', aliases: ['单元号'], example: '2', text: true },
  { key: 'door', zh: '门牌号', aliases: ['房号', '门牌', '室号'], example: '501', text: true },
  { key: 'floor', zh: '楼层', aliases: ['所在楼层', '层'], example: '5' },
  {
    key: 'address',
    zh: '地址',
    aliases: ['用水地址', '用气地址', '详细地址', '完整地址', '安装地址', 'fulladdress'],
    example: '',
  },
  { key: 'meter_location', zh: '表位', aliases: ['水表位置', '表位置', '安装位置'], example: '厨房' },
  { key: 'meter_box_no', zh: '表箱号', aliases: ['表箱编号'], example: '', text: true },
  {
    key: 'usage_type',
    zh: '用水性质',
    aliases: ['用气性质', '用水性质代码', '用气性质代码', '用户性质', '用途', 'usagetypecode'],
    example: 'W_RES',
  },
  { key: 'utility', zh: '业务类型', aliases: ['业务', '能源类型'], example: '水' },
  {
    key: 'meter_no',
    zh: '表号',
    aliases: ['水表号', '气表号', '表编号', '表具编号'],
    example: 'WM20230001',
    text: true,
  },
  { key: 'caliber_dn', zh: '口径', aliases: ['水表口径', '口径dn', 'caliber'], example: 'DN15' },
  {
    key: 'flow_rating_m3h',
    zh: '流量规格',
    aliases: ['额定流量', '流量', 'flowrating'],
    example: '',
  },
  { key: 'make', zh: '厂家', aliases: ['生产厂家', '品牌', '厂商'], example: '宁波水表' },
  { key: 'model', zh: '型号', aliases: ['规格型号', '表型号'], example: 'LXS-15E' },
  {
    key: 'install_date',
    zh: '安装日期',
    aliases: ['装表日期', '装表时间', '安装时间'],
    example: '2023-05-06',
  },
  { key: 'seal_no', zh: '铅封号', aliases: ['铅封', '铅封编号'], example: 'QF102938', text: true },
  { key: 'mounting', zh: '安装方式', aliases: ['安装形式'], example: '壁挂' },
  {
    key: 'meter_role',
    zh: '表类型',
    aliases: ['表用途', '计量类型', '表具类型', 'role'],
    example: '贸易结算表',
  },
  { key: 'master_meter_no', zh: '总表号', aliases: ['所属总表', '总表表号'], example: '', text: true },
  { key: 'ic_card', zh: 'IC卡表', aliases: ['是否IC卡表', 'IC卡', '预付费表'], example: '否' },
  {
    key: 'initial_index',
    zh: '初始读数',
    aliases: ['底数', '起始读数', '起码', '装表底数', 'initialreading'],
    example: '0',
  },
  { key: 'state', zh: '用户状态', aliases: ['状态'], example: '正常' },
  { key: 'low_income_m3', zh: '低保减免量', aliases: ['低保减免水量', '低保减免', 'lowincome'], example: '' },
  {
    key: 'connected_on',
    zh: '立户日期',
    aliases: ['开户日期', '通水日期', '接通日期', '通气日期', 'connecteddate'],
    example: '2023-05-06',
  },
  { key: 'bank_name', zh: '开户银行', aliases: ['银行'], example: '' },
  { key: 'bank_account', zh: '银行账号', aliases: ['银行帐号', '账号'], example: '', text: true },
  { key: 'remarks', zh: '备注', aliases: ['说明', 'remark', 'note'], example: '' },
];

export const COLUMN_BY_KEY = new Map(COLUMNS.map((c) => [c.key, c]));

/** Columns that give the supply address: the single address column or any of its parts. */
export const ADDRESS_COLUMNS: readonly ColumnKey[] = [
  'address',
  'district',
  'community',
  'building',
  'unit',
  'door',
];

/**
 * What a file must have: each entry is a column, or a group of which at least one must be
 * present. Other columns are optional; a row then takes their defaults.
 */
export const REQUIRED_COLUMNS: readonly (readonly ColumnKey[])[] = [
  ['name'],
  ['phone'],
  ['usage_type'],
  ['id_card_no', 'credit_code'],
  ADDRESS_COLUMNS,
];

/** How a header cell is compared: NFKC, lower case, no spaces, *, _, -, dots or bracketed units. */
export function normaliseHeader(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[(（[【].*?[)）\]】]/g, '')
    .replace(/[\s*_\-.:：]/g, '');
}

const HEADER_INDEX: Map<string, ColumnKey> = (() => {
  const index = new Map<string, ColumnKey>();
  for (const c of COLUMNS) {
    for (const name of [c.zh, c.key, ...c.aliases]) {
      const n = normaliseHeader(name);
      const taken = index.get(n);
      if (taken && taken !== c.key) throw new Error(`header alias ${name} names both ${taken} and ${c.key}`);
      index.set(n, c.key);
    }
  }
  return index;
})();

export function columnForHeader(text: string): ColumnKey | undefined {
  const n = normaliseHeader(text);
  return n === '' ? undefined : HEADER_INDEX.get(n);
}

/** The header row as found in a file: which cell holds which column. */
export interface HeaderMap {
  /** File row number of the header row (1 = first row). */
  rowNo: number;
  /** The header cells as written in the file. */
  headers: string[];
  /** Column → index into a row's cells. */
  index: Partial<Record<ColumnKey, number>>;
  /** Header cells that name no known column (ignored). */
  ignored: string[];
}

export type HeaderProblem =
  | { kind: 'missing'; missing: (readonly ColumnKey[])[] }
  | { kind: 'duplicate'; header: string; other: string };

/** Maps a header row; counts how many cells it recognised. */
export function mapHeader(
  rowNo: number,
  cells: string[],
): { header: HeaderMap; recognised: number; problem: HeaderProblem | null } {
  const index: Partial<Record<ColumnKey, number>> = {};
  const ignored: string[] = [];
  let recognised = 0;
  let problem: HeaderProblem | null = null;
  const headers = cells.map((c) => c.replace(/^\uFEFF/, '').trim());
  headers.forEach((text, i) => {
    if (text === '') return;
    const key = columnForHeader(text);
    if (!key) {
      ignored.push(text);
      return;
    }
    recognised++;
    const earlier = index[key];
    if (earlier !== undefined) {
      problem ??= { kind: 'duplicate', header: text, other: headers[earlier]! };
      return;
    }
    index[key] = i;
  });
  if (!problem) {
    const missing = REQUIRED_COLUMNS.filter((group) => !group.some((k) => index[k] !== undefined));
    if (missing.length) problem = { kind: 'missing', missing };
  }
  return { header: { rowNo, headers, index, ignored }, recognised, problem };
}

/** "地址 或 小区/楼栋…" for a group of columns, in Chinese and in English. */
export function describeColumnGroup(group: readonly ColumnKey[]): { zh: string; en: string } {
  const zh = group.map((k) => COLUMN_BY_KEY.get(k)!.zh);
  return group.length === 1
    ? { zh: zh[0]!, en: `${group[0]} (${zh[0]})` }
    : { zh: zh.join(' 或 '), en: `one of ${group.map((k, i) => `${k} (${zh[i]})`).join(', ')}` };
}

// ------------------------------------------------------------------ code values in cells

/** Label → value maps for the code columns; keys are normalised like headers. */
function labels<T extends string>(table: Record<T, readonly string[]>): Map<string, T> {
  const m = new Map<string, T>();
  for (const [value, names] of Object.entries(table) as [T, readonly string[]][]) {
    for (const name of [value, ...names]) m.set(normaliseHeader(name), value);
  }
  return m;
}

export const KIND_LABELS = labels({
  person: ['个人', '居民', '自然人', '个人用户', '居民用户', 'p'],
  organisation: ['单位', '企业', '机构', '单位用户', '企业用户', '非居民', 'organization', 'org', 'company'],
});

export const UTILITY_LABELS = labels({
  water: ['水', '供水', '自来水', '用水'],
  gas: ['气', '燃气', '天然气', '用气'],
  catv: ['有线电视', '有线', '广电', '宽带', 'tv'],
});

export const STATE_LABELS = labels({
  active: ['正常', '在用', '使用中', '正常户'],
  pending: ['待通水', '待点火', '待接通', '待开通', '待通气'],
  vacant: ['空房', '空房户'],
  suspended: ['报停', '报停户'],
  sealed: ['封停', '封停户'],
  demolished: ['拆除', '拆除户'],
  closed: ['销户', '已销户'],
});

export const MOUNTING_LABELS = labels({
  wall: ['壁挂', '挂墙', '壁挂式'],
  buried: ['地埋', '埋地', '地埋式'],
  indoor: ['户内', '室内'],
  well: ['表井', '井内', '井'],
});

export const ROLE_LABELS = labels({
  settlement: ['贸易结算表', '结算表', '结算', '分表', '户表'],
  assessment: ['考核表', '考核'],
  standpipe: ['定点取水水栓表', '水栓表', '取水栓'],
  fire: ['消防表', '消防'],
  internal: ['内部表', '内部'],
  master: ['总表'],
});

export const BOOLEAN_LABELS = labels({
  true: ['是', '有', 'y', 'yes', '1', '√', 'ic', 'ic卡表'],
  false: ['否', '无', 'n', 'no', '0', '×', '普通', '普通表'],
});

/** The words shown in an error about a code column: the Chinese labels a clerk may type. */
export const ALLOWED_WORDS: Partial<Record<ColumnKey, { zh: string; en: string }>> = {
  kind: { zh: '个人 / 单位', en: 'person / organisation (个人 / 单位)' },
  utility: { zh: '水 / 燃气 / 有线电视', en: 'water / gas / catv (水 / 燃气 / 有线电视)' },
  state: {
    zh: '正常 / 待通水 / 空房 / 报停 / 封停 / 拆除 / 销户',
    en: 'active / pending / vacant / suspended / sealed / demolished / closed',
  },
  mounting: { zh: '壁挂 / 地埋 / 户内 / 表井', en: 'wall / buried / indoor / well' },
  meter_role: {
    zh: '贸易结算表 / 考核表 / 定点取水水栓表 / 消防表 / 内部表 / 总表',
    en: 'settlement / assessment / standpipe / fire / internal / master',
  },
  ic_card: { zh: '是 / 否', en: 'yes / no (是 / 否)' },
};
