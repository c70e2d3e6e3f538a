import { Button } from 'antd-mobile';
import { forwardRef, useCallback, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

export interface SignaturePadHandle {
  /** The drawing as a PNG, or null when nothing was drawn. */
  toBlob(): Promise<Blob | null>;
  clear(): void;
}

/** A signature drawn with a finger, a stylus or a mouse (pointer events), on a white canvas. */
export const SignaturePad = forwardRef<SignaturePadHandle, { onChange?: (empty: boolean) => void }>(
  function SignaturePad({ onChange }, ref) {
    const { t } = useTranslation();
    const canvasRef = useRef<HTMLCanvasElement>(null);
    const drawing = useRef<{ x: number; y: number } | null>(null);
    const [empty, setEmpty] = useState(true);

    const setup = useCallback(() => {
      const canvas = canvasRef.current;
      if (!canvas) return;
      const ratio = window.devicePixelRatio || 1;
      const rect = canvas.getBoundingClientRect();
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      const ctx = canvas.getContext('2d');
      if (!ctx) return;
      ctx.scale(ratio, ratio);
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, rect.width, rect.height);
      ctx.lineWidth = 3;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.strokeStyle = '#111';
    }, []);

    useEffect(() => setup(), [setup]);

    const emptyRef = useRef(true);
    const onChangeRef = useRef(onChange);
    onChangeRef.current = onChange;
    const mark = useCallback((value: boolean) => {
      emptyRef.current = value;
      setEmpty(value);
      onChangeRef.current?.(value);
    }, []);
    const clear = useCallback(() => {
      setup();
      mark(true);
    }, [setup, mark]);

    const point = (e: React.PointerEvent<HTMLCanvasElement>) => {
      const rect = e.currentTarget.getBoundingClientRect();
      return { x: e.clientX - rect.left, y: e.clientY - rect.top };
    };

    const onDown = (e: React.PointerEvent<HTMLCanvasElement>) => {
      e.currentTarget.setPointerCapture(e.pointerId);
      drawing.current = point(e);
      const ctx = e.currentTarget.getContext('2d');
      if (ctx) {
        ctx.beginPath();
        ctx.arc(drawing.current.x, drawing.current.y, 1.2, 0, Math.PI * 2);
        ctx.fillStyle = '#111';
        ctx.fill();
      }
    };
    const onMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
      if (!drawing.current) return;
      const ctx = e.currentTarget.getContext('2d');
      const next = point(e);
      if (ctx) {
        ctx.beginPath();
        ctx.moveTo(drawing.current.x, drawing.current.y);
        ctx.lineTo(next.x, next.y);
        ctx.stroke();
      }
      drawing.current = next;
      if (empty) mark(false);
    };
    const onUp = () => {
      drawing.current = null;
    };

    useImperativeHandle(
      ref,
      () => ({
        toBlob: () =>
          new Promise((resolve) => {
            const canvas = canvasRef.current;
            if (!canvas || emptyRef.current) return resolve(null);
            canvas.toBlob((b) => resolve(b), 'image/png');
          }),
        clear,
      }),
      [clear],
    );

    return (
      <div className="signature">
        <canvas
          ref={canvasRef}
          className="signature-canvas"
          data-testid="signature-canvas"
          onPointerDown={onDown}
          onPointerMove={onMove}
          onPointerUp={onUp}
          onPointerCancel={onUp}
        />
        <div className="signature-bar">
          <span className="muted">{empty ? t('sheet.signHere') : t('sheet.signed')}</span>
          <Button size="small" fill="outline" onClick={clear}>
            {t('sheet.clear')}
          </Button>
        </div>
      </div>
    );
  },
);
