export interface TextFieldProps {
  id: string;
  label: string;
  value: string;
  error: string | undefined;
  /** A line under the field saying what an empty or default value means. */
  hint?: string | undefined;
  placeholder?: string;
  disabled: boolean;
  onChange(value: string): void;
}

/** A labelled numeric text field whose error is announced and tied to it. */
export function TextField({
  id,
  label,
  value,
  error,
  hint,
  placeholder,
  disabled,
  onChange,
}: TextFieldProps) {
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errorId : undefined, hint ? hintId : undefined].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        value={value}
        placeholder={placeholder}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(event) => onChange(event.currentTarget.value)}
      />
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
