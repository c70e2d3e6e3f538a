import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { idempotent } from '../platform/idempotency.ts';
import { id, pastDate, requiredText } from '../platform/zod.ts';
import { searchCustomers } from './repository.ts';
import {
  accountParams,
  addressInput,
  blacklistBody,
  blacklistEventBody,
  contactInput,
  createCustomerBody,
  liftBody,
  lowIncomeBody,
  meterInput,
  searchQuery,
  servicePointInput,
  stateChangeBody,
  updateCustomerBody,
} from './schemas.ts';
import { CustomerService } from './service.ts';

const tags = ['customers'];

export async function customerRoutes(app: FastifyInstance, { db }: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const service = new CustomerService(db);

  r.get(
    '/api/customers',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary:
          'Search customers by name, phone, ID number, customer code, meter number or address fragment',
        querystring: searchQuery,
      },
    },
    async (request) => searchCustomers(db, request.query, requireCaller(request.ctx).officeIds),
  );

  r.post(
    '/api/customers',
    {
      config: { permission: 'customer.write' },
      schema: {
        tags,
        summary: 'Create a customer with contacts, supply address, service point and (optionally) a meter',
        description: 'Send an Idempotency-Key header: a retry with the same key returns the first result.',
        body: createCustomerBody,
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        service.create(request.ctx, request.body, trx).then((body) => ({ status: 201, body })),
      ),
  );

  r.get(
    '/api/customers/:accountId',
    {
      config: { permission: 'customer.read' },
      schema: { tags, summary: 'Everything about one customer', params: accountParams },
    },
    async (request) => service.get(request.ctx, request.params.accountId),
  );

  r.put(
    '/api/customers/:accountId',
    {
      config: { permission: 'customer.write' },
      schema: {
        tags,
        summary: 'Edit identity and account fields (send the version you read)',
        params: accountParams,
        body: updateCustomerBody,
      },
    },
    async (request) => service.update(request.ctx, request.params.accountId, request.body),
  );

  r.post(
    '/api/customers/:accountId/state',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary: 'Change the customer state (each transition needs its own permission)',
        params: accountParams,
        body: stateChangeBody,
      },
    },
    async (request) => service.changeState(request.ctx, request.params.accountId, request.body),
  );

  r.put(
    '/api/customers/:accountId/low-income',
    {
      config: { permission: 'customer.write' },
      schema: {
        tags,
        summary: 'Set or clear the low-income (低保) reduction',
        params: accountParams,
        body: lowIncomeBody,
      },
    },
    async (request) => service.setLowIncome(request.ctx, request.params.accountId, request.body),
  );

  // ---- contacts
  const contactParams = accountParams.extend({ contactId: id });
  r.post(
    '/api/customers/:accountId/contacts',
    { config: { permission: 'customer.write' }, schema: { tags, params: accountParams, body: contactInput } },
    async (request, reply) => {
      reply.status(201);
      return service.addContact(request.ctx, request.params.accountId, request.body);
    },
  );
  r.put(
    '/api/customers/:accountId/contacts/:contactId',
    { config: { permission: 'customer.write' }, schema: { tags, params: contactParams, body: contactInput } },
    async (request) =>
      service.updateContact(request.ctx, request.params.accountId, request.params.contactId, request.body),
  );
  r.delete(
    '/api/customers/:accountId/contacts/:contactId',
    { config: { permission: 'customer.write' }, schema: { tags, params: contactParams } },
    async (request) => service.removeContact(request.ctx, request.params.accountId, request.params.contactId),
  );

  // ---- addresses
  const addressParams = accountParams.extend({ addressId: id });
  r.post(
    '/api/customers/:accountId/addresses',
    { config: { permission: 'customer.write' }, schema: { tags, params: accountParams, body: addressInput } },
    async (request, reply) => {
      reply.status(201);
      return service.addAddress(request.ctx, request.params.accountId, request.body);
    },
  );
  r.put(
    '/api/customers/:accountId/addresses/:addressId',
    { config: { permission: 'customer.write' }, schema: { tags, params: addressParams, body: addressInput } },
    async (request) =>
      service.updateAddress(request.ctx, request.params.accountId, request.params.addressId, request.body),
  );

  // ---- service points
  const spParams = accountParams.extend({ servicePointId: id });
  r.post(
    '/api/customers/:accountId/service-points',
    {
      config: { permission: 'customer.write' },
      schema: { tags, params: accountParams, body: servicePointInput },
    },
    async (request, reply) => {
      reply.status(201);
      return service.addServicePoint(request.ctx, request.params.accountId, request.body);
    },
  );
  r.put(
    '/api/customers/:accountId/service-points/:servicePointId',
    {
      config: { permission: 'customer.write' },
      schema: { tags, params: spParams, body: servicePointInput.extend({ active: z.boolean().optional() }) },
    },
    async (request) =>
      service.updateServicePoint(
        request.ctx,
        request.params.accountId,
        request.params.servicePointId,
        request.body,
      ),
  );

  // ---- meters
  const meterParams = accountParams.extend({ meterId: id });
  r.post(
    '/api/customers/:accountId/meters',
    { config: { permission: 'customer.write' }, schema: { tags, params: accountParams, body: meterInput } },
    async (request, reply) => {
      reply.status(201);
      return service.addMeter(request.ctx, request.params.accountId, request.body);
    },
  );
  r.put(
    '/api/customers/:accountId/meters/:meterId',
    { config: { permission: 'customer.write' }, schema: { tags, params: meterParams, body: meterInput } },
    async (request) =>
      service.updateMeter(request.ctx, request.params.accountId, request.params.meterId, request.body),
  );
  r.post(
    '/api/customers/:accountId/meters/:meterId/remove',
    {
      config: { permission: 'customer.write' },
      schema: {
        tags,
        params: meterParams,
        body: z.object({ removedOn: pastDate, reason: requiredText(500) }),
      },
    },
    async (request) =>
      service.removeMeter(request.ctx, request.params.accountId, request.params.meterId, request.body),
  );

  // ---- blacklist
  const entryParams = accountParams.extend({ entryId: id });
  r.get(
    '/api/blacklist',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags: ['blacklist'],
        summary: 'Blacklisted customers (theft, illegal connections) with their record',
        querystring: z.object({
          officeId: id.optional(),
          includeLifted: z.enum(['true', 'false']).default('false'),
          page: z.coerce.number().int().min(1).max(10_000).default(1),
          pageSize: z.coerce.number().int().min(1).max(200).default(20),
        }),
      },
    },
    async (request) =>
      service.blacklist(requireCaller(request.ctx), {
        ...request.query,
        includeLifted: request.query.includeLifted === 'true',
      }),
  );
  r.post(
    '/api/customers/:accountId/blacklist',
    {
      config: { permission: 'blacklist.write' },
      schema: { tags: ['blacklist'], params: accountParams, body: blacklistBody },
    },
    async (request, reply) => {
      reply.status(201);
      return service.addToBlacklist(request.ctx, request.params.accountId, request.body);
    },
  );
  r.post(
    '/api/customers/:accountId/blacklist/:entryId/events',
    {
      config: { permission: 'blacklist.write' },
      schema: { tags: ['blacklist'], params: entryParams, body: blacklistEventBody },
    },
    async (request, reply) => {
      reply.status(201);
      return service.addBlacklistEvent(
        request.ctx,
        request.params.accountId,
        request.params.entryId,
        request.body,
      );
    },
  );
  r.post(
    '/api/customers/:accountId/blacklist/:entryId/lift',
    {
      config: { permission: 'blacklist.write' },
      schema: { tags: ['blacklist'], params: entryParams, body: liftBody },
    },
    async (request) =>
      service.liftBlacklist(
        request.ctx,
        request.params.accountId,
        request.params.entryId,
        request.body.reason,
      ),
  );
}
