import { useMemo } from 'react';
import { qrPath } from './qr.ts';

/** The join link as a QR code: dark on white in every layout, as phone cameras read it best. */
export function JoinQr({ link }: { link: string }) {
  const { size, d } = useMemo(() => qrPath(link), [link]);
  return (
    <svg
      className="room-qr"
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label="QR code of the join link"
      data-testid="room-qr"
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
