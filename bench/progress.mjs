// A one-line progress display on standard error, for long benchmark runs. Silent unless enabled
// and standard error is a terminal or --progress was given.
export function progressBar(enabled) {
  const started = Date.now();
  let last = '';
  const write = (line) => {
    if (!enabled) return;
    const padded = line.padEnd(last.length);
    process.stderr.write(process.stderr.isTTY ? `\r${padded}` : `${line}\n`);
    last = line;
  };
  return {
    step(label) {
      write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${label}…`);
    },
    done() {
      if (enabled && process.stderr.isTTY) process.stderr.write('\n');
    },
  };
}
