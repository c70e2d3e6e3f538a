import { Button, Input, Space, Tag, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, newUuid } from '../api';
import { yuan } from '../billing/money';
import { yuanTextToFen } from '../billing/PrepaidTab';
import { useErrorHandler } from '../components/useErrorHandler';

/** An online payment order as GET /api/customers/:accountId/gateway-orders/:orderId returns it. */
export interface GatewayOrder {
  accountId: number;
  orderId: number;
  orderNo: string;
  gateway: string;
  channel: 'online' | 'wechat' | 'alipay';
  amountFen: number;
  status: 'created' | 'paid' | 'failed' | 'expired';
  payUrl: string | null;
  gatewayOrderId: string | null;
  gatewayTxnId: string | null;
  paymentId: number | null;
  paymentNo: string | null;
  expiresAt: string;
  paidAt: string | null;
  createdAt: string;
}

/** How often the order's status is asked for while the customer pays, and for how long at most. */
const POLL_MS = 2_000;
const MAX_POLLS = 450; // 15 minutes

const STATUS_COLOR: Record<GatewayOrder['status'], string> = {
  created: 'processing',
  paid: 'success',
  failed: 'default',
  expired: 'warning',
};

/**
 * 网上支付（沙箱）: opens an order with the configured gateway for what the customer owes (or the
 * amount entered), opens the gateway's pay page in a new window, and watches the order until it is
 * paid, cancelled or expired. `onPaid` runs once, when the payment has been posted.
 */
export function OnlinePayButton({
  accountId,
  onPaid,
  amountFen: fixedFen,
}: {
  accountId: number;
  onPaid?: (order: GatewayOrder) => void;
  /** Pay exactly this; without it the clerk may enter an amount, or leave it empty for what is owed. */
  amountFen?: number;
}) {
  const { t } = useTranslation();
  const onError = useErrorHandler();
  const [amountText, setAmountText] = useState('');
  const [amountError, setAmountError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [order, setOrder] = useState<GatewayOrder | null>(null);
  const [popupBlocked, setPopupBlocked] = useState(false);
  const onPaidRef = useRef(onPaid);
  onPaidRef.current = onPaid;

  // Watch the order while it waits for the customer.
  const watching = order?.status === 'created' ? order.orderId : null;
  useEffect(() => {
    if (watching === null) return;
    const controller = new AbortController();
    let polls = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      polls += 1;
      try {
        const next = await api<GatewayOrder>(`/api/customers/${accountId}/gateway-orders/${watching}`, {
          signal: controller.signal,
        });
        if (controller.signal.aborted) return;
        if (next.status !== 'created') {
          setOrder(next);
          if (next.status === 'paid') onPaidRef.current?.(next);
          return;
        }
      } catch (error) {
        if ((error as Error)?.name === 'AbortError') return;
        // A network hiccup: keep watching; the order lives on the server.
      }
      if (polls < MAX_POLLS) timer = setTimeout(poll, POLL_MS);
    };
    timer = setTimeout(poll, POLL_MS);
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [accountId, watching]);

  const start = async () => {
    let amountFen = fixedFen;
    if (amountFen === undefined && amountText.trim() !== '') {
      const fen = yuanTextToFen(amountText.trim());
      if (fen === null || fen <= 0) {
        setAmountError(t('gatewayPay.amountFormat'));
        return;
      }
      amountFen = fen;
    }
    setAmountError(null);
    // Opened now, while the click still counts as the user's, so the browser does not block it.
    const win = window.open('', '_blank');
    setCreating(true);
    try {
      const created = await api<GatewayOrder>(`/api/customers/${accountId}/gateway-orders`, {
        method: 'POST',
        body: amountFen === undefined ? {} : { amountFen },
        headers: { 'Idempotency-Key': `gateway-${newUuid()}` },
      });
      setOrder(created);
      if (created.payUrl && win) {
        win.location.href = created.payUrl;
        setPopupBlocked(false);
      } else setPopupBlocked(true);
    } catch (error) {
      win?.close();
      onError(error);
    } finally {
      setCreating(false);
    }
  };

  const busy = creating || order?.status === 'created';
  return (
    <Space direction="vertical" size={4} data-testid="online-pay">
      <Space wrap>
        {fixedFen === undefined && (
          <Input
            style={{ width: 180 }}
            prefix="¥"
            value={amountText}
            onChange={(e) => setAmountText(e.target.value)}
            placeholder={t('gatewayPay.amountPlaceholder')}
            status={amountError ? 'error' : undefined}
            disabled={busy}
            aria-label={t('gatewayPay.amount')}
          />
        )}
        <Button type="primary" ghost onClick={() => void start()} loading={creating} disabled={busy}>
          {t('gatewayPay.button')}
        </Button>
        {order && (
          <Tag color={STATUS_COLOR[order.status]} data-testid="online-pay-status" data-status={order.status}>
            {t(`gatewayPay.status.${order.status}`)}
          </Tag>
        )}
      </Space>
      {amountError && <Typography.Text type="danger">{amountError}</Typography.Text>}
      {order && (
        <Typography.Text type="secondary">
          {t('gatewayPay.orderLine', { orderNo: order.orderNo, amount: yuan(order.amountFen) })}
          {order.paymentNo ? ` · ${t('gatewayPay.paymentNo', { paymentNo: order.paymentNo })}` : ''}
        </Typography.Text>
      )}
      {order?.status === 'created' && order.payUrl && (
        <Typography.Text>
          {popupBlocked ? `${t('gatewayPay.popupBlocked')} ` : `${t('gatewayPay.waiting')} `}
          <Typography.Link href={order.payUrl} target="_blank" rel="noopener">
            {t('gatewayPay.openPayPage')}
          </Typography.Link>
          {' · '}
          <Typography.Link onClick={() => setOrder(null)}>{t('gatewayPay.stopWatching')}</Typography.Link>
        </Typography.Text>
      )}
    </Space>
  );
}
