import { useStudio } from '../page-studio';

/** Any failure, in words, where it cannot be missed. */
export function ErrorAlert() {
  const error = useStudio((s) => s.error);
  const dismiss = useStudio((s) => s.dismissError);
  if (!error) return null;
  return (
    <div className="alert">
      <span className="alert-icon" aria-hidden="true">
        !
      </span>
      <p className="alert-text" role="alert">
        {error}
      </p>
      <button type="button" className="ghost" onClick={dismiss} aria-label="Dismiss error">
        ×
      </button>
    </div>
  );
}
