import { useEffect } from 'react';
import { BatchPanel } from '../batch/BatchPanel';
import { Controls } from '../controls/Controls';
import { ConditionPanel } from '../editor/ConditionPanel';
import { ModelCard } from '../models/ModelCard';
import { useStudio } from '../page-studio';
import { ReaderTestPanel } from '../reader-test/ReaderTestPanel';
import { Timeline } from '../viewer/Timeline';
import { Views } from '../viewer/Views';
import { ErrorAlert } from './ErrorAlert';
import { StatusBar } from './StatusBar';

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
