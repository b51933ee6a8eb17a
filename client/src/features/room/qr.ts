import { create } from 'qrcode';

/** Modules of white border the QR specification asks for around the symbol (ISO/IEC 18004 §6.3.8). */
export const QUIET_ZONE = 4;

export interface QrPath {
  /** Width and height in modules, quiet zone included. */
  size: number;
  /** One SVG path of 1 × 1 squares, one per dark module, offset by the quiet zone. */
  d: string;
}

/**
 * A QR code of `text` as one SVG path, drawn by the page rather than injected as markup: nothing of
 * the link ends up as HTML. Error correction M (15 %) stays readable off a projector screen.
 */
export function qrPath(text: string): QrPath {
  const { modules } = create(text, { errorCorrectionLevel: 'M' });
  const parts: string[] = [];
  for (let row = 0; row < modules.size; row++) {
    for (let col = 0; col < modules.size; col++) {
      if (modules.get(row, col)) parts.push(`M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`);
    }
  }
  return { size: modules.size + 2 * QUIET_ZONE, d: parts.join('') };
}
