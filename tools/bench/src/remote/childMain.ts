// The entry of a bench child process (forked by subjectChild.ts): one subject group per process.
import { serveParent } from './host.js';

serveParent();
