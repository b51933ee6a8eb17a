import { LaneMeasurements } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { TABLE_METRICS } from '../../store/metrics-table.ts';
import { GLOSSARY, GLOSSARY_KEYS } from './glossary.ts';

const entries = GLOSSARY_KEYS.map((key) => GLOSSARY[key]);

describe('the glossary lists every exported figure', () => {
  it.each(Object.keys(LaneMeasurements.shape))('JSON export field measurements.%s has an entry', (field) => {
    expect(entries.filter((e) => (e.json as readonly string[]).includes(field))).toHaveLength(1);
  });

  it.each(TABLE_METRICS.map((m) => [m.key, m.label] as const))('CSV column %s (%s) has an entry', (key) => {
    expect(entries.filter((e) => (e.table as readonly string[]).includes(key))).toHaveLength(1);
  });

  it('names no field the exports do not have', () => {
    const json = new Set(Object.keys(LaneMeasurements.shape));
    const table = new Set<string>(TABLE_METRICS.map((m) => m.key));
    for (const entry of entries) {
      for (const field of entry.json) expect(json, entry.term).toContain(field);
      for (const key of entry.table) expect(table, entry.term).toContain(key);
    }
  });

  it('names say what is measured: no figure is called "perceived" or "feedback"', () => {
    for (const entry of entries) expect(entry.term).not.toMatch(/perceived|feedback/i);
    for (const metric of TABLE_METRICS) expect(metric.label).not.toMatch(/perceived|feedback/i);
  });
});
