import { useEffect, useState } from 'preact/hooks';
import { listModels } from '../api/other-apis';

/** The models GET /v1/models lists; "" is the server's default model. */
export function ModelPicker({ value, onChange }: { value: string; onChange(model: string): void }) {
  const [models, setModels] = useState<string[]>([]);
  useEffect(() => {
    listModels()
      .then(setModels)
      .catch(() => setModels([]));
  }, []);
  return (
    <span class="model-picker">
      <label for="model">Model</label>
      <select id="model" value={value} onChange={(event) => onChange(event.currentTarget.value)}>
        <option value="">Server default</option>
        {/* The saved choice is an option from the start, so the select shows it before the list arrives. */}
        {(value === '' || models.includes(value) ? models : [value, ...models]).map((model) => (
          <option key={model} value={model}>
            {model}
          </option>
        ))}
      </select>
    </span>
  );
}
