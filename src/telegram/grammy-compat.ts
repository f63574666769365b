/** Small shims between Node's types and grammY's. */
import type { Bot } from 'grammy';

/** grammY types signals with an older AbortSignal shim; Node's own signal is what it uses at
 * run time, so this is a type-level conversion only. */
export function grammySignal(signal: AbortSignal): Parameters<Bot['init']>[0] {
  return signal as unknown as Parameters<Bot['init']>[0];
}
