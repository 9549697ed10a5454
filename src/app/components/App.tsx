import { useEffect } from 'react';
import { ReaderTestPanel } from '../reader-test/ReaderTestPanel';
import { useStudio } from '../studio';
import { BatchPanel } from './BatchPanel';
import { ConditionPanel } from './ConditionPanel';
import { Controls } from './Controls';
import { ErrorAlert } from './ErrorAlert';
import { ModelCard } from './ModelCard';
import { StatusBar } from './StatusBar';
import { Timeline } from './Timeline';
import { Views } from './Views';

export function App() {
  const load = useStudio((s) => s.load);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div className="app">
      <header className="topbar">
        <h1>
          PIG Studio <span className="subtitle">paired lesion mask + ultrasound image diffusion</span>
        </h1>
        <ModelCard />
      </header>
      <ErrorAlert />
      <main className="workspace">
        <aside className="panel">
          <Controls />
        </aside>
        <section className="stage" aria-label="Denoising trajectory">
          <ConditionPanel />
          <Views />
          <Timeline />
          <BatchPanel />
          <ReaderTestPanel />
        </section>
      </main>
      <footer className="footer">
        <StatusBar />
      </footer>
    </div>
  );
}
