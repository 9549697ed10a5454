import { useStudio } from '../page-studio';
import { ANY_VALUE, attributeLabel } from './attributes';

/**
 * A model with attributes (contracts.md §6b): one selector per attribute ("any" first, then the
 * manifest's values) and the classifier-free guidance w. Nothing for a model without attributes.
 */
export function AttributeControls() {
  const model = useStudio((s) => s.model);
  const phase = useStudio((s) => s.phase);
  const attributes = useStudio((s) => s.attributes);
  const guidanceText = useStudio((s) => s.guidanceText);
  const setAttribute = useStudio((s) => s.setAttribute);
  const setGuidanceText = useStudio((s) => s.setGuidanceText);
  if (!model || model.attributes.length === 0) return null;
  const running = phase === 'running' || phase === 'cancelling';
  return (
    <fieldset className="attributes">
      <legend>Condition on</legend>
      {model.attributes.map((a) => (
        <div className="field" key={a.name}>
          <label htmlFor={`attr-${a.name}`}>{attributeLabel(a.name)}</label>
          <select
            id={`attr-${a.name}`}
            value={attributes[a.name] ?? ANY_VALUE}
            disabled={running}
            onChange={(e) => setAttribute(a.name, e.currentTarget.value)}
          >
            <option value={ANY_VALUE}>any</option>
            {a.values.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </div>
      ))}
      <div className="field">
        <label htmlFor="guidance">Guidance w</label>
        <input
          id="guidance"
          type="number"
          min={0}
          max={20}
          step={0.5}
          value={guidanceText}
          disabled={running}
          onChange={(e) => setGuidanceText(e.currentTarget.value)}
          aria-describedby="guidance-hint"
          title="Classifier-free guidance: 1 runs the conditioned model alone; above 1 pushes towards the values asked for (each U-Net then runs twice a step)"
        />
        <div id="guidance-hint" className="hint">
          0 … 20 · model default {model.defaultGuidance} · 1: no guidance
        </div>
      </div>
    </fieldset>
  );
}
