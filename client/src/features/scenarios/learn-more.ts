import type { Source } from './scenarios.ts';

/** Further reading for the scenarios' "Learn more" lists: references a learner can read from start to end. */
export const LEARN_MORE = {
  azureAsyncRequestReply: {
    label: 'Azure Architecture Center: Asynchronous Request-Reply pattern',
    url: 'https://learn.microsoft.com/en-us/azure/architecture/patterns/async-request-reply',
  },
  azureQueueLoadLeveling: {
    label: 'Azure Architecture Center: Queue-Based Load Leveling pattern',
    url: 'https://learn.microsoft.com/en-us/azure/architecture/patterns/queue-based-load-leveling',
  },
  mdn504: {
    label: 'MDN: 504 Gateway Timeout',
    url: 'https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Status/504',
  },
  mdnHttpOverview: {
    label: 'MDN: An overview of HTTP',
    url: 'https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Overview',
  },
  mdn202: {
    label: 'MDN: 202 Accepted',
    url: 'https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Status/202',
  },
  mdnWebSockets: {
    label: 'MDN: The WebSocket API',
    url: 'https://developer.mozilla.org/en-US/docs/Web/API/WebSockets_API',
  },
  mdnEventSource: {
    label: 'MDN: EventSource',
    url: 'https://developer.mozilla.org/en-US/docs/Web/API/EventSource',
  },
  mdnIdempotent: {
    label: 'MDN: Idempotent',
    url: 'https://developer.mozilla.org/en-US/docs/Glossary/Idempotent',
  },
  mdnAbortController: {
    label: 'MDN: AbortController',
    url: 'https://developer.mozilla.org/en-US/docs/Web/API/AbortController',
  },
  mdnRetryAfter: {
    label: 'MDN: Retry-After',
    url: 'https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Retry-After',
  },
  rfc9110: { label: 'RFC 9110: HTTP Semantics', url: 'https://www.rfc-editor.org/rfc/rfc9110' },
  rfc6202: {
    label: 'RFC 6202: Known issues and best practices for long polling and streaming',
    url: 'https://www.rfc-editor.org/rfc/rfc6202',
  },
  rfc6455: { label: 'RFC 6455: The WebSocket Protocol', url: 'https://www.rfc-editor.org/rfc/rfc6455' },
  rfc8441: {
    label: 'RFC 8441: Bootstrapping WebSockets with HTTP/2',
    url: 'https://www.rfc-editor.org/rfc/rfc8441',
  },
  whatwgSse: {
    label: 'WHATWG HTML: Server-sent events',
    url: 'https://html.spec.whatwg.org/multipage/server-sent-events.html',
  },
  nginxProxyBuffering: {
    label: 'nginx: proxy_buffering',
    url: 'https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering',
  },
  socketIoDocs: { label: 'socket.io documentation', url: 'https://socket.io/docs/v4/' },
  socketIoDelivery: {
    label: 'socket.io: Delivery guarantees',
    url: 'https://socket.io/docs/v4/delivery-guarantees',
  },
  standardWebhooks: { label: 'Standard Webhooks', url: 'https://www.standardwebhooks.com/' },
  socketIoReconnection: {
    label: 'socket.io: client options, reconnectionDelay and randomizationFactor',
    url: 'https://socket.io/docs/v4/client-options/#randomizationfactor',
  },
  rfc9113: { label: 'RFC 9113: HTTP/2', url: 'https://www.rfc-editor.org/rfc/rfc9113' },
  mdnPageVisibility: {
    label: 'MDN: Page Visibility API',
    url: 'https://developer.mozilla.org/en-US/docs/Web/API/Page_Visibility_API',
  },
  chromeTimerThrottling: {
    label: 'Chrome for Developers: Heavy throttling of chained JS timers',
    url: 'https://developer.chrome.com/blog/timer-throttling-in-chrome-88',
  },
  socketIoHeartbeat: {
    label: 'socket.io: How it works (the heartbeat)',
    url: 'https://socket.io/docs/v4/how-it-works/#disconnection-detection',
  },
  socketIoRecovery: {
    label: 'socket.io: Connection state recovery',
    url: 'https://socket.io/docs/v4/connection-state-recovery',
  },
} satisfies Record<string, Source>;
