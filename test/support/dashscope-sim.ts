// The simulator ships with the product (npm run demo); tests keep importing it from here.
export * from '../../src/sim/dashscope-sim.ts';
