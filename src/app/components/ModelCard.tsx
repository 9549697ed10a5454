import { useStudio } from '../studio';

function text(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** What the model is and where it came from, from the manifest's card. */
export function ModelCard() {
  const model = useStudio((s) => s.model);
  const folder = useStudio((s) => s.options.model);
  if (!model) return null;
  const card = model.card;
  const rows: [string, string | null][] = [
    ['Data', text(card['data'])],
    ['Trained on', text(card['trainedOn'])],
    ['Preset', text(card['preset'])],
    ['License', text(card['license'])],
    ['Citation', text(card['citation'])],
  ];
  return (
    <details className="card">
      <summary>
        Model <strong>{model.name}</strong> · {model.resolution[1]}×{model.resolution[0]} · folder <code>{folder}</code>
      </summary>
      <dl>
        {rows
          .filter((r): r is [string, string] => r[1] !== null)
          .map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
      </dl>
    </details>
  );
}
