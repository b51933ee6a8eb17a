/**
 * Every figure the page shows and exports, defined once (issue 12, item 3): the cards' and the table's
 * labels take their names from here, each label's definition (FigureLabel) is its `definition`, and the
 * page's glossary (Glossary.tsx) lists them all with the export fields they are written to. Names say
 * what is measured: "Result shown" is the moment the page showed the result, on its own clock, not a
 * perception; "First reply shown" is the server's first answer on screen (the page's own reaction to the
 * click is immediate and not a figure). glossary.test.ts checks that every field of the JSON export's
 * measurements and every column of the CSV export has an entry.
 */
export interface GlossaryEntry {
  /** The label shown on the cards and in the table (and, in lower case, the CSV column). */
  term: string;
  definition: string;
  /** Keys of `LaneMeasurements` in the JSON export that carry it. */
  json: readonly string[];
  /** Keys of `TABLE_METRICS` (the table and the CSV export) that carry it. */
  table: readonly string[];
}

export const GLOSSARY = {
  firstFeedback: {
    term: 'First reply shown',
    definition:
      "From Start to the frame that showed the server's first answer: the final result, a 202 Accepted, a socket's acknowledgement or a first event, whichever came first. The wait before it has no feedback from the server, so Nielsen's 0.1/1/10 s bands apply to it. Called first feedback in the scenarios' texts.",
    json: ['firstFeedbackMs'],
    table: ['firstFeedback'],
  },
  totalPerceived: {
    term: 'Result shown',
    definition:
      "From Start to the frame that showed the task's final outcome, timed on this page's clock. Nielsen's bands apply only when nothing came before it (a blocking call); a lane that showed progress meanwhile is not judged by them.",
    json: ['totalPerceivedMs'],
    table: ['totalPerceived'],
  },
  completionLag: {
    term: 'Completion lag',
    definition:
      "From the server's end of the task to the frame that showed it, moved onto this page's clock by the offset above (so it carries its ± uncertainty). A delay of delivery, not a wait, so it gets no Nielsen band.",
    json: ['completionLagMs'],
    table: ['completionLag'],
  },
  staleness: {
    term: 'Delay per update',
    definition:
      "For each progress value that reached the screen: how old it was then (the frame that showed it minus the server's time of that step). Mean and max over the values shown; 'k of n updates shown' says how many that was. Upper bounds when the server's time is only known from the step's schedule.",
    json: ['staleness', 'progressAgeUpperBound'],
    table: ['stalenessMean', 'stalenessMax'],
  },
  updatesShown: {
    term: 'Updates shown',
    definition:
      'How many of the task’s progress values reached the screen, each with its server time and the frame that showed it. A lane that skips values (a slow poll, a buffered stream) shows fewer.',
    json: ['progressShown'],
    table: [],
  },
  requests: {
    term: 'Requests',
    definition:
      'HTTP requests the lane sent for this task (polls, held requests, streams, reconnections that reached the server); a WebSocket counts its opening handshake as one.',
    json: ['requests'],
    table: ['requests'],
  },
  bytesUp: {
    term: 'Bytes up',
    definition:
      'Bytes the lane sent to the server, headers and body (WebSocket: every frame with its framing, and the upgrade). A total that misses an exchange the page could not measure is a lower bound, and says so.',
    json: ['bytesUp', 'unmeasuredUp'],
    table: ['bytesUp'],
  },
  bytesDown: {
    term: 'Bytes down',
    definition:
      'Bytes the lane received, headers and body (the Resource Timing transfer size; WebSocket: every frame with its framing). A total that misses an exchange the page could not measure is a lower bound, and says so.',
    json: ['bytesDown', 'unmeasuredDown'],
    table: ['bytesDown'],
  },
  wastedPolls: {
    term: 'Wasted polls',
    definition:
      'Polls that brought nothing new: a 304, an unchanged state or an empty long poll. Only polling lanes have them.',
    json: ['wastedPolls'],
    table: ['wastedPolls'],
  },
  connectionsOpened: {
    term: 'Connections opened',
    definition:
      'Requests whose Resource Timing shows a new connection (a WebSocket is one per handshake; a stream shows its timing only once it has ended). Idle keep-alive connections are invisible to a page.',
    json: ['connectionsOpened', 'unmeasuredConnections'],
    table: ['connectionsOpened'],
  },
  connectionsAtOnce: {
    term: 'Connections in use at once',
    definition:
      'The most exchanges the lane had in flight together; over HTTP/1.1 each holds a connection of its own.',
    json: ['connectionsAtOnce'],
    table: ['connectionsAtOnce'],
  },
  serverLate: {
    term: 'Server behind its schedule, max',
    definition:
      "The most the server ran behind its own schedule for this lane's task (the event's time minus its due time): every other figure of the lane includes it. Not the transport's merit, so never ranked.",
    json: ['serverLatenessMaxMs'],
    table: ['serverLate'],
  },
  queueTime: {
    term: 'Queue time',
    definition:
      "How long the lane's task waited for a worker on the server (WORKERS busy): from when the server accepted it to when a worker started it, both on the server's clock. Every later figure of the lane includes it; the blocking call learns it only from its final answer. Not the transport's merit, so never ranked.",
    json: ['queueMs'],
    table: ['queueTime'],
  },
  ageOfInformation: {
    term: 'Age of information, time-averaged',
    definition:
      'The interval sweep’s figure: how old the value on screen was, averaged over every moment from the first value shown to the finish. Unlike the delay per update, it grows when a lane skips values.',
    json: [],
    table: [],
  },
} as const satisfies Record<string, GlossaryEntry>;

export type GlossaryKey = keyof typeof GLOSSARY;

export const GLOSSARY_KEYS = Object.keys(GLOSSARY) as GlossaryKey[];

/** The anchor of an entry in the page's glossary. */
export const glossaryAnchor = (key: GlossaryKey) => `glossary-${key}`;
