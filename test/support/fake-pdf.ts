/**
 * A small, well-formed-enough PDF whose page draws `text` (one `Tj`), padded with a binary stream to
 * `size` bytes when asked: the simulator's "extraction" reads the drawn strings back.
 */
export function fakePdf(text: string, size = 0): Uint8Array {
  const head = `%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n`;
  const content = `BT /F1 12 Tf 72 712 Td (${text.replace(/[()\\]/g, '\\$&')}) Tj ET`;
  const page = `4 0 obj << /Length ${content.length} >> stream\n${content}\nendstream endobj\n`;
  const tail = 'trailer << /Root 1 0 R >>\n%%EOF\n';
  const fixed = Buffer.from(head + page, 'latin1');
  const padLength = Math.max(0, size - fixed.length - tail.length - 64);
  const padHead = Buffer.from(`5 0 obj << /Length ${padLength} >> stream\n`, 'latin1');
  const padTail = Buffer.from('\nendstream endobj\n', 'latin1');
  const pad = Buffer.alloc(padLength);
  for (let i = 0; i < padLength; i++) pad[i] = (i * 131 + 7) & 0xff;
  const parts = padLength ? [fixed, padHead, pad, padTail] : [fixed];
  return new Uint8Array(Buffer.concat([...parts, Buffer.from(tail, 'latin1')]));
}
