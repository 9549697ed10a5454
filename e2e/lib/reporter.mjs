// The e2e suite's reporter: one line per test as it ends (its notes under it, its error when it
// failed, where its trace is), and last, exactly `N passed, M failed` (what CI reads). Skipped tests
// (the measurements without E2E_MEASURE=1) are counted in neither.
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

export default class SummaryReporter {
  passed = 0;
  failed = 0;
  skipped = 0;
  started = Date.now();

  printsToStdio() {
    return true;
  }

  onBegin(config, suite) {
    const projects = config.projects.map((p) => `${p.name} (${suite.suites.find((s) => s.title === p.name)?.allTests().length ?? 0})`);
    console.log(`e2e: ${suite.allTests().length} tests in projects ${projects.join(', ')}, ${config.workers} worker(s)`);
  }

  onStdOut(chunk) {
    process.stdout.write(chunk);
  }

  onStdErr(chunk) {
    process.stderr.write(chunk);
  }

  onTestEnd(test, result) {
    const [, project] = test.titlePath();
    const name = `[${project}] ${test.titlePath().slice(3).join(' › ')}`;
    if (result.status === 'skipped') {
      this.skipped++;
      return;
    }
    if (result.status === test.expectedStatus) {
      this.passed++;
      console.log(`  ok   ${name} (${seconds(result.duration)})`);
      return;
    }
    this.failed++;
    console.log(`  FAIL ${name} (${seconds(result.duration)}, ${result.status})`);
    for (const error of result.errors)
      console.log(
        `       ${String(error.stack ?? error.message ?? error.value)
          .split('\n')
          .join('\n       ')}`,
      );
    for (const a of result.attachments) {
      if (a.name === 'trace' && a.path) console.log(`       trace: npx playwright show-trace ${a.path}`);
      else if (a.path) console.log(`       ${a.name}: ${a.path}`);
    }
  }

  onError(error) {
    this.failed++;
    console.log(
      `  FAIL (outside a test) ${String(error.stack ?? error.message ?? error.value)
        .split('\n')
        .join('\n       ')}`,
    );
  }

  onEnd(result) {
    console.log(`e2e: ${seconds(Date.now() - this.started)} in all (${result.status}${this.skipped ? `, ${this.skipped} skipped` : ''})`);
    // a run that passed nothing (no build, no browser, no test matched) is not a success
    console.log(`${this.passed} passed, ${this.failed} failed`);
    if (this.failed === 0 && this.passed === 0) return { status: 'failed' };
  }
}
