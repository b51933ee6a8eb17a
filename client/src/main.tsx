// First: zod must be jitless before any schema is built (see the module).
import './lib/zod-jitless.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { adoptOperatorLink } from './lib/operator.ts';
import './styles.css';

// Before anything renders: the presenter's link carries the operator token in its address.
adoptOperatorLink(window.location, window.history);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
