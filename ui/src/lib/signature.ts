// The signature pad's strokes, kept as points so they can be redrawn and
// exported as a PNG at any size.
export type Point = { x: number; y: number };
export type Stroke = Point[];

/** Whether the strokes amount to a signature rather than a stray tap. */
export function isSigned(strokes: Stroke[]): boolean {
  const points = strokes.reduce((n, s) => n + s.length, 0);
  return points >= 8;
}

export function draw(context: CanvasRenderingContext2D, strokes: Stroke[], width: number, height: number) {
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, width, height);
  context.strokeStyle = "#111111";
  context.lineWidth = 2.5;
  context.lineCap = "round";
  context.lineJoin = "round";
  for (const stroke of strokes) {
    if (stroke.length === 0) continue;
    context.beginPath();
    context.moveTo(stroke[0].x, stroke[0].y);
    for (const p of stroke.slice(1)) context.lineTo(p.x, p.y);
    context.stroke();
  }
}
