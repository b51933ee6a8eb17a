import type { Scenario } from './scenarios.ts';

/** A scenario's further reading, for a learner without a presenter (issue 12, item 6). */
export function LearnMore({ scenario }: { scenario: Scenario }) {
  const links = scenario.learnMore ?? [];
  if (links.length === 0) return null;
  return (
    <nav
      className="scenario-learn-more"
      aria-label={`Learn more: ${scenario.title}`}
      data-testid="learn-more"
    >
      <h3 className="learn-more-title">Learn more</h3>
      <ul>
        {links.map((link) => (
          <li key={link.url}>
            <a href={link.url} target="_blank" rel="noreferrer">
              {link.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
