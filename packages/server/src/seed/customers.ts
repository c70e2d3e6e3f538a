import assert from 'node:assert/strict';
import { creditCodeCheckChar, customerSearchKey, idCardCheckChar } from '@meterline/domain';
import type pg from 'pg';
import { copyFrom, copyValue } from '../db/copy.ts';
import { rng } from './random.ts';

/**
 * Demo customers for a believable utility: Chinese names, communities with buildings, units and
 * doors, a meter mix by caliber and mounting, organisations, master meters with sub-meters,
 * low-income and blacklisted households. Rows are generated and COPYed in chunks, so memory stays
 * bounded whatever the count; the same seed gives the same data.
 */

export interface SeedOptions {
  customers: number;
  seed?: number;
  log?: (msg: string) => void;
  /** One bulk transaction (see setAsideIndexesAndKeys); by default above BULK_ABOVE customers. */
  bulk?: boolean;
}

export interface SeedResult {
  customers: number;
  seconds: number;
  peakRssMb: number;
  /** Where the time went: generating and writing rows, then (bulk only) indexes, foreign keys, vacuum. */
  stages: { rowsSeconds: number; indexesSeconds: number; foreignKeysSeconds: number; vacuumSeconds: number };
}

/** Customers generated and written per chunk: bounds memory. */
export const SEED_CHUNK = 5_000;
/**
 * Above this many new customers the seed is one bulk transaction that builds the indexes and
 * checks the foreign keys once at the end, rather than chunk by chunk (see setAsideIndexesAndKeys).
 */
const BULK_ABOVE = 50_000;

// ------------------------------------------------------------------ deterministic randomness

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
/** Picks by weight: [[value, weight], ...]. */
function weighted<T>(r: Rand, table: readonly (readonly [T, number])[]): T {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of table) {
    x -= w;
    if (x < 0) return v;
  }
  return table[table.length - 1]![0];
}

// ------------------------------------------------------------------ vocabularies

const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '周',
  '吴',
  '徐',
  '孙',
  '马',
  '胡',
  '朱',
  '郭',
  '何',
  '罗',
  '高',
  '林',
  '郑',
  '梁',
  '谢',
  '宋',
  '唐',
  '许',
  '邓',
  '韩',
  '冯',
  '曹',
  '彭',
  '曾',
  '肖',
  '田',
  '董',
  '潘',
  '袁',
  '蔡',
  '蒋',
  '余',
  '于',
  '杜',
  '叶',
  '程',
  '魏',
  '苏',
  '吕',
  '丁',
  '任',
  '卢',
  '姚',
  '沈',
  '钟',
  '姜',
  '崔',
  '谭',
  '陆',
  '范',
  '汪',
  '廖',
] as const;
const GIVEN = [
  '伟',
  '芳',
  '娜',
  '秀英',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀兰',
  '霞',
  '平',
  '刚',
  '桂英',
  '建华',
  '文',
  '华',
  '红',
  '建国',
  '玉兰',
  '志强',
  '海燕',
  '丹',
  '萍',
  '鹏',
  '辉',
  '建军',
  '宇',
  '浩',
  '婷',
  '欣怡',
  '子涵',
  '梓萱',
  '雨泽',
  '浩然',
  '一诺',
  '思远',
  '佳怡',
  '俊杰',
  '淑珍',
  '凤英',
  '国庆',
  '卫东',
  '春梅',
] as const;
const COMMUNITY_HEADS = [
  '幸福',
  '阳光',
  '锦绣',
  '和谐',
  '金桥',
  '翠竹',
  '绿城',
  '丽景',
  '华府',
  '东方',
  '盛世',
  '康宁',
  '紫荆',
  '银杏',
  '书香',
  '天鹅',
  '滨河',
  '春晖',
  '祥和',
  '嘉禾',
  '怡景',
  '泰和',
  '瑞祥',
  '富康',
  '文化',
  '建业',
  '正商',
  '永威',
  '鑫苑',
  '昌建',
] as const;
const COMMUNITY_TAILS = [
  '小区',
  '花园',
  '家园',
  '苑',
  '新村',
  '公寓',
  '名城',
  '雅居',
  '安置小区',
  '佳苑',
] as const;
const DISTRICTS_BY_OFFICE_INDEX = ['金水区', '二七区', '管城区', '中原区', '惠济区', '郑东新区'] as const;
const ORG_KINDS = [
  ['餐饮有限公司', 'W_BIZ'],
  ['洗浴中心', 'W_SPC'],
  ['洗车行', 'W_SPC'],
  ['机械制造有限公司', 'W_IND'],
  ['食品有限公司', 'W_IND'],
  ['物业服务有限公司', 'W_BIZ'],
  ['中学', 'W_ADM'],
  ['社区卫生服务中心', 'W_ADM'],
  ['建筑工程有限公司', 'W_CON'],
  ['商贸有限公司', 'W_BIZ'],
] as const;
const ORG_HEADS = [
  '郑州',
  '中州',
  '华夏',
  '金源',
  '宏达',
  '新世纪',
  '恒通',
  '豫龙',
  '东风',
  '黄河',
  '中原',
  '嵩山',
] as const;
const MAKES = [
  ['宁波水表', ['LXS-15E', 'LXS-20E', 'LXLG-50']],
  ['三川智慧', ['LXSY-15', 'LXSY-20', 'LXLC-80']],
  ['新天科技', ['XT-IC15', 'XT-IC20']],
  ['金卡智能', ['G2.5', 'G4', 'G6']],
] as const;
const LOCATIONS = ['厨房', '卫生间', '楼道水表箱', '室外表井', '阳台', '一楼表房'] as const;
const BANKS = ['中国工商银行', '中国建设银行', '中国农业银行', '中国银行', '郑州银行'] as const;
const BLACKLIST_CASES = [
  ['theft', '绕表私接管道用水', '追缴水费并处罚款，已恢复正常计量'],
  ['bypass', '表前阀门旁通开启', '关闭旁通并加装铅封'],
  ['meter_tampering', '表具倒装、铅封破坏', '更换表具并重新铅封'],
  ['illegal_connection', '未经报装私自接管', '拆除私接管道，责令补办手续'],
] as const;

// ------------------------------------------------------------------ COPY helpers

/** Rows of one table for one chunk, in COPY text format. */
class Table {
  private lines: string[] = [];
  constructor(
    readonly name: string,
    readonly columns: readonly string[],
  ) {}
  add(...values: unknown[]): void {
    let line = copyValue(values[0]);
    for (let i = 1; i < values.length; i++) line += `\t${copyValue(values[i])}`;
    this.lines.push(line);
  }
  /** The chunk's rows as COPY text (null when none), leaving the table empty for the next chunk. */
  take(): string | null {
    if (this.lines.length === 0) return null;
    const text = `${this.lines.join('\n')}\n`;
    this.lines = [];
    return text;
  }
}

interface ChunkData {
  name: string;
  columns: readonly string[];
  text: string;
}

const copyInto = (client: pg.PoolClient, chunk: ChunkData) =>
  copyFrom(client, chunk.name, chunk.columns, chunk.text);

// ------------------------------------------------------------------ bulk loading

/** The tables the seed fills, parents first. */
const SEEDED_TABLES = [
  'customer',
  'customer_code_registry',
  'contact',
  'address',
  'service_point',
  'meter',
  'meter_registry',
  'blacklist_entry',
  'blacklist_event',
  'customer_state_change',
] as const;

/**
 * Bulk mode, for large seeds: one transaction that sets the seeded tables' secondary indexes and
 * foreign keys aside, COPYs every chunk, then builds the indexes once and checks each foreign key
 * with one join (PostgreSQL's "Populating a Database" advice). All or nothing: a seed that fails
 * or is killed leaves the database as it was, indexes included. It holds the seeded tables
 * locked until it commits, so run it before the server takes traffic (as first start does).
 */
interface SetAside {
  indexes: { name: string; definition: string }[];
  foreignKeys: { table: string; name: string; definition: string }[];
}

async function setAsideIndexesAndKeys(client: pg.PoolClient): Promise<SetAside> {
  const indexes = await client.query<{ name: string; definition: string }>(
    `select i.relname as name, pg_get_indexdef(x.indexrelid) as definition
     from pg_index x
     join pg_class i on i.oid = x.indexrelid
     join pg_class t on t.oid = x.indrelid
     where t.relname = any($1) and t.relnamespace = current_schema()::regnamespace
       and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)
     order by i.relname`,
    [SEEDED_TABLES],
  );
  const foreignKeys = await client.query<{ table: string; name: string; definition: string }>(
    `select t.relname as table, c.conname as name, pg_get_constraintdef(c.oid) as definition
     from pg_constraint c join pg_class t on t.oid = c.conrelid
     where c.contype = 'f' and t.relname = any($1) and t.relnamespace = current_schema()::regnamespace
     order by t.relname, c.conname`,
    [SEEDED_TABLES],
  );
  for (const fk of foreignKeys.rows) {
    await client.query(`alter table ${ident(fk.table)} drop constraint ${ident(fk.name)}`);
  }
  for (const index of indexes.rows) await client.query(`drop index ${ident(index.name)}`);
  return { indexes: indexes.rows, foreignKeys: foreignKeys.rows };
}

async function restoreIndexesAndKeys(
  client: pg.PoolClient,
  aside: SetAside,
  log: (msg: string) => void,
): Promise<{ indexesSeconds: number; foreignKeysSeconds: number }> {
  await client.query("set local maintenance_work_mem = '256MB'");
  // The meters' deferred triggers (meter_directory_version, migration 0027) fire now: an index cannot
  // be built on a table with trigger events still pending in the transaction.
  await client.query('set constraints all immediate');
  const started = Date.now();
  for (const index of aside.indexes) {
    const t0 = Date.now();
    await client.query(index.definition);
    log(`seed: index ${index.name} built in ${seconds(t0)} s`);
  }
  const t0 = Date.now();
  for (const fk of aside.foreignKeys) {
    await client.query(`alter table ${ident(fk.table)} add constraint ${ident(fk.name)} ${fk.definition}`);
  }
  log(`seed: ${aside.foreignKeys.length} foreign keys checked in ${seconds(t0)} s`);
  return { indexesSeconds: (t0 - started) / 1000, foreignKeysSeconds: (Date.now() - t0) / 1000 };
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

// ------------------------------------------------------------------ generator

interface Office {
  office_id: number;
  code: string;
  index: number;
}

/** ID card region codes of Zhengzhou's districts, by the district a customer lives in. */
const ID_REGION_BY_DISTRICT: Record<string, string> = {
  金水区: '410105',
  二七区: '410103',
  管城区: '410104',
  中原区: '410102',
  惠济区: '410108',
  郑东新区: '410105',
};
const OTHER_ID_REGIONS = ['410106', '410122', '410181', '410182', '410183', '410184', '410185'] as const;

function idCardNo(r: Rand, district: string): string {
  // Most residents were registered in the district they live in; some elsewhere in the city.
  const region = r() < 0.7 ? (ID_REGION_BY_DISTRICT[district] ?? '410102') : pick(r, OTHER_ID_REGIONS);
  const year = int(r, 1940, 2003);
  const month = String(int(r, 1, 12)).padStart(2, '0');
  const day = String(int(r, 1, 28)).padStart(2, '0');
  const first17 = `${region}${year}${month}${day}${String(int(r, 0, 999)).padStart(3, '0')}`;
  return first17 + idCardCheckChar(first17);
}

const ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

/** A credit code whose organisation code (characters 9–17) carries its own GB 11714 check character. */
function creditCode(r: Rand): string {
  let body = '';
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const value = int(r, 0, 9);
    body += String(value);
    sum += value * ORG_CODE_WEIGHTS[i]!;
  }
  const check = 11 - (sum % 11);
  const first17 = `91410100${body}${check === 10 ? 'X' : check === 11 ? '0' : String(check)}`;
  return first17 + creditCodeCheckChar(first17);
}

function mobile(r: Rand): string {
  return `1${pick(r, ['3', '5', '7', '8', '9'])}${String(int(r, 0, 999_999_999)).padStart(9, '0')}`;
}

function isoDate(r: Rand, fromYear: number, toYear: number): string {
  return `${int(r, fromYear, toYear)}-${String(int(r, 1, 12)).padStart(2, '0')}-${String(int(r, 1, 28)).padStart(2, '0')}`;
}

/** Reserves `count` consecutive account ids. */
async function reserveAccountIds(client: pg.PoolClient, count: number): Promise<number> {
  await client.query('begin');
  await client.query('lock table customer in share row exclusive mode');
  const { rows } = await client.query<{ last: string }>(
    `select setval('account_id_seq', greatest(coalesce((select max(account_id) from customer), 0),
       (select case when is_called then last_value else last_value - 1 end from account_id_seq)) + $1) as last`,
    [count],
  );
  await client.query('commit');
  return Number(rows[0]!.last) - count + 1;
}

/** Consecutive accounts of one office; RUNS_PER_COMMUNITY of an office's runs make a community. */
const ACCOUNTS_PER_RUN = 40;
const RUNS_PER_COMMUNITY = 15;

/** Customers generated between yields to the event loop, so COPY data keeps flowing meanwhile. */
const YIELD_EVERY = 250;

export async function seedCustomers(pool: pg.Pool, opts: SeedOptions): Promise<SeedResult> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  assert(Number.isSafeInteger(opts.customers) && opts.customers >= 0, 'customers must be a whole number');
  let peakRss = process.memoryUsage().rss;
  const stages: SeedResult['stages'] = {
    rowsSeconds: 0,
    indexesSeconds: 0,
    foreignKeysSeconds: 0,
    vacuumSeconds: 0,
  };
  const client = await pool.connect();
  let inTransaction = false;
  let failure: Error | undefined;
  try {
    const offices = (
      await client.query<{ office_id: number; code: string }>(
        'select office_id, code from office where active order by code',
      )
    ).rows.map((o, index) => ({ ...o, index }));
    if (offices.length === 0) throw new Error('seed needs at least one business office');
    const staff = await client.query<{ staff_id: number }>(
      'select staff_id from staff order by staff_id limit 1',
    );
    const staffId = staff.rows[0]?.staff_id ?? null;
    const firstId = await reserveAccountIds(client, opts.customers);
    const bulk = opts.bulk ?? opts.customers > BULK_ABOVE;

    let aside: SetAside | null = null;
    if (bulk) {
      await client.query('begin');
      inTransaction = true;
      aside = await setAsideIndexesAndKeys(client);
      log(
        `seed: bulk load in one transaction (${aside.indexes.length} indexes and ${aside.foreignKeys.length} foreign keys rebuilt at the end)`,
      );
    }

    const tables = seedTables();
    /** Writes one chunk: in its own transaction, or as part of the bulk one. */
    const write = async (chunk: ChunkData[]) => {
      if (!bulk) await client.query('begin');
      for (const c of chunk) await copyInto(client, c);
      if (!bulk) await client.query('commit');
    };

    // Chunk k is written while chunk k+1 is generated: PostgreSQL and the generator each keep a
    // core busy. At most two chunks are in memory.
    let writing: Promise<void> | null = null;
    let generateMs = 0;
    for (let offset = 0; offset < opts.customers; offset += SEED_CHUNK) {
      const n = Math.min(SEED_CHUNK, opts.customers - offset);
      // A master meter per building of large compounds: sub-meters of that building point at it.
      const masterForBuilding = new Map<string, string>();
      for (let i = 0; i < n; i++) {
        const accountId = firstId + offset + i;
        const r = rng(((opts.seed ?? 1) * 2_654_435_761) ^ accountId);
        const t0 = performance.now();
        generateCustomer(r, accountId, offices, staffId, tables, masterForBuilding);
        generateMs += performance.now() - t0;
        if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
      }
      const chunk: ChunkData[] = [];
      for (const t of Object.values(tables)) {
        const text = t.take();
        if (text !== null) chunk.push({ name: t.name, columns: t.columns, text });
      }
      await writing;
      writing = write(chunk);
      // Its failure surfaces at the next await; until then it must not count as unhandled.
      writing.catch(() => {});
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      const done = offset + n;
      if (done === opts.customers || (done / SEED_CHUNK) % 20 === 0) {
        const seconds = (Date.now() - started) / 1000;
        log(
          `seed: ${done.toLocaleString('en')} / ${opts.customers.toLocaleString('en')} customers generated (${Math.round(done / seconds)}/s, generating ${Math.round((generateMs / 1000 / seconds) * 100)}% of the time, RSS ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MB)`,
        );
      }
    }
    await writing;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    stages.rowsSeconds = (Date.now() - started) / 1000;
    if (aside) {
      log(`seed: rows written in ${seconds(started)} s; building indexes…`);
      Object.assign(stages, await restoreIndexesAndKeys(client, aside, log));
    }
    // Seeded child rows carry small per-account ids; move the identity sequences past them.
    for (const [table, column] of [
      ['contact', 'contact_id'],
      ['address', 'address_id'],
      ['service_point', 'service_point_id'],
      ['meter', 'meter_id'],
      ['blacklist_entry', 'entry_id'],
      ['blacklist_event', 'event_id'],
      ['customer_state_change', 'change_id'],
    ] as const) {
      await client.query(
        `select setval(pg_get_serial_sequence('${table}', '${column}'),
           greatest((select coalesce(max(${column}), 0) from ${table}), (select last_value from ${table}_${column}_seq)))`,
      );
    }
    await client.query(
      `insert into audit_log (staff_id, entity_type, entity_id, action, after)
       values ($1, 'system', 'seed', 'seed_customers', $2)`,
      [staffId, JSON.stringify({ customers: opts.customers, firstAccountId: firstId })],
    );
    if (inTransaction) {
      await client.query('commit');
      inTransaction = false;
    }
    if (bulk) {
      // Sets every new row's hint bits and the visibility map now, rather than making the first
      // searches dirty (and write) each page they read; and gives the planner fresh statistics.
      const t0 = Date.now();
      await client.query(`vacuum (analyze) ${SEEDED_TABLES.join(', ')}`);
      stages.vacuumSeconds = (Date.now() - t0) / 1000;
      log(`seed: vacuumed and analysed in ${seconds(t0)} s`);
    } else {
      await client.query(`analyze ${SEEDED_TABLES.join(', ')}`);
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    // A connection that failed mid-COPY is closed rather than handed back to the pool.
    client.release(failure);
  }
  return {
    customers: opts.customers,
    seconds: (Date.now() - started) / 1000,
    peakRssMb: Math.round(peakRss / 1024 / 1024),
    stages,
  };
}

function seedTables() {
  return {
    customer: new Table('customer', [
      'account_id',
      'office_id',
      'customer_code',
      'kind',
      'name',
      'id_card_no',
      'credit_code',
      'bank_name',
      'bank_account',
      'utility',
      'state',
      'connected_on',
      'low_income',
      'low_income_reduction_m3',
      'low_income_cert_no',
      'large_user',
      'blacklisted',
      'notice_delivery',
      'search_key',
      'created_by',
      'updated_by',
    ]),
    code: new Table('customer_code_registry', ['customer_code', 'account_id']),
    contact: new Table('contact', ['account_id', 'contact_id', 'name', 'relation', 'phone', 'is_primary']),
    address: new Table('address', [
      'account_id',
      'address_id',
      'kind',
      'district',
      'community',
      'building',
      'unit',
      'door',
      'detail',
      'floor',
    ]),
    sp: new Table('service_point', [
      'account_id',
      'service_point_id',
      'address_id',
      'usage_type_code',
      'meter_location',
      'meter_box_no',
      'resettlement',
    ]),
    meter: new Table('meter', [
      'account_id',
      'meter_id',
      'service_point_id',
      'meter_no',
      'utility',
      'caliber_dn',
      'flow_rating_m3h',
      'make',
      'model',
      'install_date',
      'seal_no',
      'mounting',
      'role',
      'master_meter_no',
      'ic_card',
      'ic_card_no',
      'initial_index',
    ]),
    registry: new Table('meter_registry', ['meter_no', 'account_id', 'meter_id']),
    blacklist: new Table('blacklist_entry', [
      'account_id',
      'entry_id',
      'category',
      'violation',
      'action_taken',
      'listed_on',
      'listed_by',
    ]),
    event: new Table('blacklist_event', [
      'account_id',
      'event_id',
      'entry_id',
      'kind',
      'occurred_on',
      'description',
      'recorded_by',
    ]),
    state: new Table('customer_state_change', [
      'account_id',
      'change_id',
      'from_state',
      'to_state',
      'reason',
      'changed_by',
    ]),
  };
}

type Tables = Record<
  'customer' | 'code' | 'contact' | 'address' | 'sp' | 'meter' | 'registry' | 'blacklist' | 'event' | 'state',
  Table
>;

function generateCustomer(
  r: Rand,
  accountId: number,
  offices: Office[],
  staffId: number | null,
  t: Tables,
  masterForBuilding: Map<string, string>,
): void {
  // Households cluster in communities of ~600 accounts; organisations sit on the roads nearby.
  // Runs of accounts go to the offices in turn (so even a small seed fills every office), and an
  // office's runs make up its communities: a community lies in one office's district.
  const block = Math.floor(accountId / ACCOUNTS_PER_RUN);
  const officeIndex = block % offices.length;
  const communityInOffice = Math.floor(Math.floor(block / offices.length) / RUNS_PER_COMMUNITY);
  const communityNo = communityInOffice * offices.length + officeIndex;
  const office = offices[officeIndex]!;
  const district = DISTRICTS_BY_OFFICE_INDEX[office.index % DISTRICTS_BY_OFFICE_INDEX.length]!;
  const customerCode = `${office.code}${String(accountId).padStart(8, '0')}`;
  const isOrg = r() < 0.08;
  const utility = weighted(r, [
    ['water', 85],
    ['gas', 13],
    ['catv', 2],
  ] as const);
  const community = `${COMMUNITY_HEADS[communityNo % COMMUNITY_HEADS.length]}${COMMUNITY_TAILS[Math.floor(communityNo / COMMUNITY_HEADS.length) % COMMUNITY_TAILS.length]}${communityNo >= 300 ? `${Math.floor(communityNo / 300) + 1}期` : ''}`;
  const resettlement = community.includes('安置');
  const building = String(int(r, 1, 28));
  const unit = String(int(r, 1, 6));
  const floor = int(r, 1, 33);
  const door = `${floor}${String(int(r, 1, 4)).padStart(2, '0')}`;

  let name: string;
  let idCard: string | null = null;
  let credit: string | null = null;
  let usage: string;
  if (isOrg) {
    const [kind, orgUsage] = pick(r, ORG_KINDS);
    name = `${pick(r, ORG_HEADS)}${pick(r, COMMUNITY_HEADS)}${kind}`;
    credit = creditCode(r);
    usage =
      utility === 'water' ? orgUsage : utility === 'gas' ? pick(r, ['G_BIZ', 'G_IND', 'G_HEAT']) : 'C_BB';
  } else {
    name = pick(r, SURNAMES) + pick(r, GIVEN);
    idCard = idCardNo(r, district);
    usage = utility === 'water' ? 'W_RES' : utility === 'gas' ? 'G_RES' : pick(r, ['C_TV', 'C_BB']);
  }
  const state = weighted(r, [
    ['active', 900],
    ['vacant', 35],
    ['suspended', 20],
    ['sealed', 15],
    ['demolished', 10],
    ['pending', 10],
    ['closed', 10],
  ] as const);
  const lowIncome = !isOrg && r() < 0.02;
  const blacklisted = r() < 0.003;
  const phones = [mobile(r), ...(r() < 0.3 ? [mobile(r)] : [])];
  const address = isOrg
    ? {
        district,
        community: '',
        building: '',
        unit: '',
        door: '',
        detail: `${pick(r, ['建设路', '花园路', '农业路', '文化路', '经三路'])}${int(r, 1, 300)}号`,
        floor: 1,
      }
    : { district, community, building, unit, door, detail: '', floor };

  // Meter: household DN15/20 (wall or buried), organisations larger; some master meters.
  const make = pick(r, MAKES);
  let caliber: number | null = null;
  let flow: string | null = null;
  let role = 'settlement';
  let mounting = weighted(r, [
    ['wall', 60],
    ['buried', 30],
    ['indoor', 10],
  ] as const) as string;
  if (utility === 'water') {
    caliber = isOrg
      ? pick(r, [25, 40, 50, 80, 100, 150])
      : weighted(r, [
          [15, 85],
          [20, 12],
          [25, 3],
        ] as const);
    if (isOrg && caliber >= 80 && r() < 0.3) role = pick(r, ['master', 'fire']);
    if (isOrg && caliber >= 40) mounting = 'well';
  } else if (utility === 'gas') {
    flow = isOrg ? pick(r, ['6.00', '10.00', '16.00', '25.00', '40.00']) : pick(r, ['2.50', '4.00']);
  }
  const icCard = utility === 'gas' ? floor > 8 || r() < 0.5 : r() < 0.05;
  const meterNo = `${utility === 'water' ? 'W' : utility === 'gas' ? 'G' : 'C'}${String(accountId).padStart(9, '0')}`;
  // Every 50th household of a building reads behind a building master meter (总表/分表).
  const buildingKey = `${community}-${building}`;
  let masterMeterNo: string | null = null;
  if (!isOrg && utility === 'water' && role === 'settlement') {
    const master = masterForBuilding.get(buildingKey);
    if (master && r() < 0.5) masterMeterNo = master;
    else if (!master && r() < 0.02) {
      role = 'master';
      caliber = 50;
      mounting = 'well';
      masterForBuilding.set(buildingKey, meterNo);
    }
  }

  const searchKey = customerSearchKey({
    name,
    customerCode,
    idCardNo: idCard,
    creditCode: credit,
    phones,
    meterNos: utility === 'catv' ? [] : [meterNo],
    addresses: [address],
  });
  const connectedOn = state === 'pending' ? null : isoDate(r, 1995, 2025);
  t.customer.add(
    accountId,
    office.office_id,
    customerCode,
    isOrg ? 'organisation' : 'person',
    name,
    idCard,
    credit,
    isOrg ? pick(r, BANKS) : '',
    isOrg ? String(int(r, 1e15, 9e15)) : '',
    utility,
    state,
    connectedOn,
    lowIncome,
    lowIncome ? '5' : '0',
    lowIncome ? `DB${accountId}` : '',
    isOrg && caliber !== null && caliber >= 40,
    blacklisted,
    r() < 0.6 ? 'sms' : 'paper',
    searchKey,
    staffId,
    staffId,
  );
  t.code.add(customerCode, accountId);
  phones.forEach((p, i) => {
    t.contact.add(
      accountId,
      i + 1,
      i === 0
        ? isOrg
          ? pick(r, SURNAMES) + pick(r, ['经理', '主任', '会计'])
          : name
        : pick(r, SURNAMES) + pick(r, GIVEN),
      i === 0 ? (isOrg ? 'agent' : 'self') : 'family',
      p,
      i === 0,
    );
  });
  t.address.add(
    accountId,
    1,
    'supply',
    address.district,
    address.community,
    address.building,
    address.unit,
    address.door,
    address.detail,
    address.floor,
  );
  t.sp.add(
    accountId,
    1,
    1,
    usage,
    pick(r, LOCATIONS),
    isOrg ? '' : `${building}-${unit}-${int(r, 1, 12)}`,
    resettlement,
  );
  if (utility !== 'catv') {
    t.meter.add(
      accountId,
      1,
      1,
      meterNo,
      utility,
      caliber,
      flow,
      make[0],
      pick(r, make[1]),
      isoDate(r, 2012, 2025),
      `QF${String(accountId).padStart(8, '0')}`,
      mounting,
      role,
      masterMeterNo,
      icCard,
      icCard ? `IC${accountId}` : '',
      String(int(r, 0, 3000)),
    );
    t.registry.add(meterNo, accountId, 1);
  }
  if (blacklisted && staffId !== null) {
    const [category, violation, action] = pick(r, BLACKLIST_CASES);
    const listedOn = isoDate(r, 2019, 2025);
    t.blacklist.add(accountId, 1, category, violation, action, listedOn, staffId);
    t.event.add(accountId, 1, 1, 'violation', listedOn, violation, staffId);
    t.event.add(accountId, 2, 1, 'inspection', listedOn, '稽查现场核实，拍照取证', staffId);
  }
  if (state !== 'active' && state !== 'pending' && staffId !== null) {
    t.state.add(accountId, 1, 'active', state, '历史数据迁移', staffId);
  }
}
