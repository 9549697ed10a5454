import type { ReactNode } from 'react';

/** What a labelled field of the forms takes: its text lives in the store, as typed (the store parses and names the limits). */
interface FieldProps {
  label: string;
  value: string;
  onChange: (text: string) => void;
  title: string;
  disabled?: boolean;
}

/** A labelled whole number from `min` to `max` (the browser's spinner steps by 1). */
export function NumberField({ label, value, onChange, title, disabled, min = 1, max }: FieldProps & { min?: number; max: number }) {
  return (
    <label className="field">
      <span>{label}</span>
      <input type="number" min={min} max={max} step={1} value={value} disabled={disabled} onChange={(e) => onChange(e.currentTarget.value)} title={title} />
    </label>
  );
}

/** A labelled line of text; `numeric` for a seed (a number keypad on phones, and no spinner to step it). */
export function TextField({ label, value, onChange, title, disabled, numeric, placeholder }: FieldProps & { numeric?: boolean; placeholder?: string }) {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type="text"
        inputMode={numeric ? 'numeric' : undefined}
        autoComplete="off"
        value={value}
        placeholder={placeholder}
        disabled={disabled}
        onChange={(e) => onChange(e.currentTarget.value)}
        title={title}
      />
    </label>
  );
}

/** Why the form's submit is disabled (its button's aria-describedby names `id`); nothing while `why` is null. */
export function Blocker({ id, why }: { id: string; why: string | null }) {
  return why === null ? null : (
    <p id={id} className="hint blocker">
      {why}
    </p>
  );
}

/** A form whose submit runs `onSubmit` on the page. noValidate: the store checks the fields and its
 * alert says what is wrong (the browser's own bubble would stop the submit silently for screen
 * readers and scripts). */
export function StoreForm({ className, onSubmit, children }: { className: string; onSubmit: () => void; children: ReactNode }) {
  return (
    <form
      className={className}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </form>
  );
}
