/**
 * Preloaded (`node --expose-gc --import …/gc-on-signal.js`) into a system under test by the
 * memory scenario only: SIGUSR2 runs a full garbage collection, so idle memory is measured in
 * the same settled state for every design instead of wherever the collector happened to be.
 */
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
});
