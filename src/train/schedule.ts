/**
 * Learning-rate schedule (docs/method.md §5): linear warm-up from 0 over `warmupSteps`,
 * then cosine decay to 0 at `totalSteps` (as transformers'
 * get_cosine_schedule_with_warmup). `step` counts from 0.
 */
export function warmupCosine(step: number, baseLr: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return baseLr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
