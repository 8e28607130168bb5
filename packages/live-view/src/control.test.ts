import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ControlRequestError, MAX_STEPS, parseControlRequest } from './control.js';

describe('parseControlRequest', () => {
  it('takes pause, resume, and step with 1..MAX_STEPS slices (default 1)', () => {
    expect(parseControlRequest('{"action":"pause"}')).toEqual({ action: 'pause' });
    expect(parseControlRequest('{"action":"resume"}')).toEqual({ action: 'resume' });
    expect(parseControlRequest('{"action":"step"}')).toEqual({ action: 'step', steps: 1 });
    expect(parseControlRequest(`{"action":"step","steps":${MAX_STEPS}}`)).toEqual({ action: 'step', steps: MAX_STEPS });
  });

  it('refuses everything else, naming what was wrong', () => {
    const bad: [string, RegExp][] = [
      ['', /must be JSON/],
      ['step 5', /must be JSON.*"step 5"/],
      ['[]', /JSON object with an "action"/],
      ['null', /JSON object/],
      ['{}', /"action" must be "pause", "step" or "resume", got undefined/],
      ['{"action":"stop"}', /got "stop"/],
      ['{"action":"step","steps":0}', /"steps" must be an integer in 1\.\.1000000, got 0/],
      ['{"action":"step","steps":2.5}', /got 2\.5/],
      ['{"action":"step","steps":"5"}', /got "5"/],
      [`{"action":"step","steps":${MAX_STEPS + 1}}`, /got 1000001/],
      ['{"action":"pause","steps":3}', /"steps" goes only with "step", not "pause"/],
      ['{"action":"pause","force":true}', /unknown field "force"/],
    ];
    for (const [body, why] of bad) {
      expect(() => parseControlRequest(body), body).toThrow(ControlRequestError);
      expect(() => parseControlRequest(body), body).toThrow(why);
    }
  });

  it('property: any JSON value is either a well-formed request or a ControlRequestError, never anything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ action: fc.constantFrom('pause', 'step', 'resume', 'x'), steps: fc.oneof(fc.integer(), fc.double(), fc.string()) }, { requiredKeys: ['action'] })), (v) => {
        let r;
        try {
          r = parseControlRequest(JSON.stringify(v));
        } catch (e) {
          expect(e).toBeInstanceOf(ControlRequestError);
          return;
        }
        if (r.action === 'step') expect(Number.isInteger(r.steps) && r.steps >= 1 && r.steps <= MAX_STEPS).toBe(true);
        else expect(Object.keys(r)).toEqual(['action']);
      }),
      { numRuns: 300 },
    );
  });
});
