import path from 'node:path';

export interface ServerConfig {
  /** HTTP port; 0 picks a free one. */
  port: number;
  host: string;
  /** An existing PostgreSQL; when absent the embedded one under dataDir is used. */
  databaseUrl: string | undefined;
  /** Everything meterline keeps on disk: the embedded database, uploaded documents, import files. */
  dataDir: string;
  /** Port of the embedded PostgreSQL. */
  embeddedPgPort: number;
  /** Customers seeded on first start of an empty database (0 disables it). */
  seedCustomers: number;
  /** Serve the built back office from this directory, if it exists. */
  webDir: string | undefined;
  /** Serve the built handheld app at /field/ from this directory, if it exists. */
  fieldDir: string | undefined;
  /** Mark the session cookie Secure (behind HTTPS). */
  secureCookies: boolean;
  logLevel: string;
  /** The online payment gateway (PAYMENT_GATEWAY): 'sandbox' (default), see payments/gateways/. */
  paymentGateway?: string;
  /** The sandbox gateway's signing key (SANDBOX_GATEWAY_SECRET); else the one generated into the setting table. */
  sandboxGatewaySecret?: string;
  /**
   * The daily job taking billing readings from register reads (readings/registerBilling.ts); off
   * with METERLINE_REGISTER_BILLING=off (the benchmarks, which time the server without it).
   */
  registerBillingJob?: boolean;
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
}

export function loadConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const dataDir = path.resolve(process.env.METERLINE_DATA_DIR ?? 'data');
  return {
    port: intFromEnv('PORT', 8080),
    host: process.env.HOST ?? '0.0.0.0',
    databaseUrl: process.env.DATABASE_URL || undefined,
    dataDir,
    embeddedPgPort: intFromEnv('METERLINE_PG_PORT', 54329),
    seedCustomers: intFromEnv('METERLINE_SEED_CUSTOMERS', 5000),
    webDir: process.env.METERLINE_WEB_DIR,
    fieldDir: process.env.METERLINE_FIELD_DIR,
    secureCookies: process.env.METERLINE_SECURE_COOKIES === '1',
    logLevel: process.env.LOG_LEVEL ?? 'info',
    paymentGateway: process.env.PAYMENT_GATEWAY || 'sandbox',
    sandboxGatewaySecret: process.env.SANDBOX_GATEWAY_SECRET || undefined,
    registerBillingJob: process.env.METERLINE_REGISTER_BILLING !== 'off',
    ...overrides,
  };
}
