// Start-up probe: a fresh process that imports lablog, opens a store and creates an experiment.
import { openStore } from 'lablog';
openStore({ path: process.argv[2] }).createExperiment({ name: 'startup' });
