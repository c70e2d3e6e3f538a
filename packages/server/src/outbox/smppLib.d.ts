// The parts of the `smpp` package (node-smpp, CommonJS, untyped) that the outbox uses.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer } from 'node:net';

  export interface Pdu {
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): Pdu;
  }

  export interface Session extends EventEmitter {
    socket: import('node:net').Socket;
    send(pdu: Pdu, onResponse?: (pdu: Pdu) => void, onSent?: (pdu: Pdu) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    [command: string]: unknown;
  }

  export interface Server extends NetServer {
    sessions: Session[];
  }

  export const PDU: new (command: string, options?: Record<string, unknown>) => Pdu;
  export function connect(options: Record<string, unknown>, listener?: () => void): Session;
  export function createServer(listener: (session: Session) => void): Server;
  export function addTLV(tag: string, options: { id: number; type: unknown }): void;
  export const types: { tlv: { cstring: unknown; int8: unknown; int16: unknown } };
  export const tlvs: Record<string, unknown>;
  export const ESME_ROK: number;
  export const ESME_RBINDFAIL: number;
  export const ESME_RINVDSTADR: number;
  export const ESME_RTHROTTLED: number;
  export const ESME_RX_T_APPN: number;
}
