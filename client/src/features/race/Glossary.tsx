import { TABLE_METRICS } from '../../store/metrics-table.ts';
import { GLOSSARY, GLOSSARY_KEYS, glossaryAnchor } from './glossary.ts';

/** Every figure the page shows and exports, with its definition and its fields in the exports. */
export function Glossary() {
  return (
    <details className="glossary" id="glossary">
      <summary>Glossary: every figure, what it measures, and where the exports write it</summary>
      <dl data-testid="glossary">
        {GLOSSARY_KEYS.map((key) => {
          const entry = GLOSSARY[key];
          const fields = [
            ...entry.json.map((f) => `JSON measurements.${f}`),
            ...TABLE_METRICS.filter((m) => (entry.table as readonly string[]).includes(m.key)).map(
              (m) => `CSV "${m.label.toLowerCase()} (${m.unit})"`,
            ),
          ];
          return (
            <div key={key} id={glossaryAnchor(key)} className="glossary-entry" data-term={key}>
              <dt>{entry.term}</dt>
              <dd>
                {entry.definition}
                {fields.length > 0 ? (
                  <span className="glossary-fields">
                    {' '}
                    Exported as{' '}
                    {fields.map((f, k) => (
                      <span key={f}>
                        {k > 0 ? ', ' : null}
                        <code>{f}</code>
                      </span>
                    ))}
                    .
                  </span>
                ) : null}
              </dd>
            </div>
          );
        })}
      </dl>
    </details>
  );
}
