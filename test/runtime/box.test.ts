import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boxOf, Cmp, Op, necessaryBox } from '../../src/runtime/table.js';

// A tiny independent evaluator of the enclave-only opcodes (and of subject atoms, whose values a
// test gives), to check boxOf and necessaryBox against.
function evaluate(program: number[], prodid: number, svn: number, attrs: number, atoms = 0): boolean {
  const stack: boolean[] = [];
  const cmp = (x: number, c: number, v: number) => [x === v, x !== v, x < v, x <= v, x > v, x >= v][c];
  for (let pc = 0; pc < program.length; ) {
    const [op, a, b] = [program[pc], program[pc + 1], program[pc + 2]];
    switch (op) {
      case Op.TRUE: stack.push(true); pc += 1; break;
      case Op.FALSE: stack.push(false); pc += 1; break;
      case Op.AND: { const y = stack.pop()!; const x = stack.pop()!; stack.push(x && y); pc += 1; break; }
      case Op.OR: { const y = stack.pop()!; const x = stack.pop()!; stack.push(x || y); pc += 1; break; }
      case Op.NOT: stack.push(!stack.pop()!); pc += 1; break;
      case Op.PRODID_CMP: stack.push(cmp(prodid, a, b)); pc += 3; break;
      case Op.SVN_CMP: stack.push(cmp(svn, a, b)); pc += 3; break;
      case Op.PRODID_IN: stack.push(prodid >= a && prodid <= b); pc += 3; break;
      case Op.SVN_IN: stack.push(svn >= a && svn <= b); pc += 3; break;
      case Op.ATTR: stack.push(((attrs >>> a) & 1) === 1); pc += 2; break;
      case Op.ATOM: stack.push(((atoms >>> a) & 1) === 1); pc += 2; break;
      default: throw new Error(`opcode ${op}`);
    }
  }
  return stack[0];
}

function inBox(box: number[], prodid: number, svn: number, attrs: number): boolean {
  return prodid >= box[0] && prodid <= box[1] && svn >= box[2] && svn <= box[3] && (attrs & box[4]) === box[4] && (attrs & box[5]) === 0;
}

const value = fc.oneof(fc.constantFrom(0, 1, 2, 3, 65534, 65535), fc.integer({ min: 0, max: 65535 }));
const leaf: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant<number[]>([Op.TRUE]),
  fc.constant<number[]>([Op.FALSE]),
  fc.tuple(fc.constantFrom(Op.PRODID_CMP, Op.SVN_CMP), fc.integer({ min: Cmp.EQ, max: Cmp.GE }), value).map((t) => [...t]),
  fc.tuple(fc.constantFrom(Op.PRODID_IN, Op.SVN_IN), value, value).map(([op, x, y]) => [op, Math.min(x, y), Math.max(x, y)]),
  fc.constantFrom(0, 1, 2, 4, 5, 6, 7, 10).map((bit): number[] => [Op.ATTR, bit]),
);
const program: fc.Arbitrary<number[]> = fc.letrec<{ p: number[] }>((tie) => ({
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(tie('p'), tie('p')).map(([x, y]) => [...x, ...y, Op.AND]),
    fc.tuple(tie('p'), tie('p')).map(([x, y]) => [...x, ...y, Op.OR]),
    tie('p').map((x) => [...x, Op.NOT]),
  ),
})).p;

describe('SPEC 6: box conditions decide exactly like their programs', () => {
  it('a box, when boxOf gives one, holds exactly when the program does', () => {
    let boxes = 0;
    fc.assert(
      fc.property(program, fc.array(fc.tuple(value, value, fc.integer({ min: 0, max: 2047 })), { minLength: 20, maxLength: 20 }), (p, points) => {
        const box = boxOf(p);
        if (box === null) return;
        boxes++;
        for (const [prodid, svn, attrs] of points) expect(inBox(box, prodid, svn, attrs)).toBe(evaluate(p, prodid, svn, attrs));
      }),
      { numRuns: 3000, seed: 11 },
    );
    expect(boxes).toBeGreaterThan(300);
  });

  it('recognises the usual launch condition and refuses what is not a box', () => {
    expect(boxOf([Op.PRODID_CMP, Cmp.EQ, 3, Op.SVN_CMP, Cmp.GE, 2, Op.AND])).toEqual([3, 3, 2, 65535, 0, 0]);
    expect(boxOf([Op.ATTR, 1, Op.NOT])).toEqual([0, 65535, 0, 65535, 0, 2]);
    expect(boxOf([Op.SVN_CMP, Cmp.NE, 2])).toBeNull();
    expect(boxOf([Op.ATTR, 1, Op.ATTR, 2, Op.OR])).toBeNull();
    expect(boxOf([Op.ATTR, 1, Op.ATTR, 2, Op.AND, Op.NOT])).toBeNull();
    expect(boxOf([Op.SIGNER_IN, 0])).toBeNull();
  });
});

describe('necessaryBox: a box a condition cannot hold outside of (entries and bodies test it before the program)', () => {
  // Subject atoms stand for anything the box cannot see: each point gives them random values.
  const withAtoms: fc.Arbitrary<number[]> = fc.letrec<{ p: number[] }>((tie) => ({
    p: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.integer({ min: 0, max: 30 }).map((atom): number[] => [Op.ATOM, atom]),
      fc.tuple(tie('p'), tie('p')).map(([x, y]) => [...x, ...y, Op.AND]),
      fc.tuple(tie('p'), tie('p')).map(([x, y]) => [...x, ...y, Op.OR]),
      tie('p').map((x) => [...x, Op.NOT]),
    ),
  })).p;
  const point = fc.tuple(value, value, fc.integer({ min: 0, max: 2047 }), fc.integer({ min: 0, max: 0x7fffffff }));

  it('never leaves out a request for which the program holds', () => {
    let narrowed = 0;
    fc.assert(
      fc.property(withAtoms, fc.array(point, { minLength: 30, maxLength: 30 }), (p, points) => {
        const box = necessaryBox(p);
        const full = box[0] === 0 && box[1] === 65535 && box[2] === 0 && box[3] === 65535 && box[4] === 0 && box[5] === 0;
        if (!full) narrowed++;
        for (const [prodid, svn, attrs, atoms] of points) {
          if (evaluate(p, prodid, svn, attrs, atoms)) expect(inBox(box, prodid, svn, attrs), JSON.stringify({ prodid, svn, attrs, atoms })).toBe(true);
        }
        // The edges too: a bound is where a narrowing is most likely to be off by one.
        for (const prodid of [box[0] - 1, box[0], box[1], box[1] + 1]) {
          for (const svn of [box[2] - 1, box[2], box[3], box[3] + 1]) {
            if (prodid < 0 || prodid > 65535 || svn < 0 || svn > 65535) continue;
            for (const attrs of [box[4], box[4] | 2, box[4] | 4, 0]) {
              if (evaluate(p, prodid, svn, attrs, 0x55555555) || evaluate(p, prodid, svn, attrs, 0x2aaaaaaa)) expect(inBox(box, prodid, svn, attrs)).toBe(true);
            }
          }
        }
      }),
      { numRuns: 4000, seed: 12 },
    );
    expect(narrowed).toBeGreaterThan(400);
  });

  it('intersects under and, takes the hull under or, and flips only a single attribute under not', () => {
    const FULL = [0, 65535, 0, 65535, 0, 0];
    const eq = (v: number) => [Op.PRODID_CMP, Cmp.EQ, v];
    const atom = [Op.ATOM, 0];
    expect(necessaryBox([...eq(7), ...atom, Op.AND])).toEqual([7, 7, 0, 65535, 0, 0]);
    expect(necessaryBox([...eq(7), ...eq(9), Op.OR, ...atom, Op.AND])).toEqual([7, 9, 0, 65535, 0, 0]);
    expect(necessaryBox([Op.ATTR, 1, Op.NOT, ...atom, Op.AND])).toEqual([0, 65535, 0, 65535, 0, 2]);
    expect(necessaryBox([Op.ATTR, 1, ...atom, Op.OR])).toEqual(FULL);
    expect(necessaryBox([Op.ATTR, 1, ...atom, Op.AND, Op.ATTR, 1, Op.SVN_CMP, Cmp.GE, 3, Op.AND, Op.OR])).toEqual([0, 65535, 0, 65535, 2, 0]);
    // `not` of something known only approximately says nothing: not (debug and uid 0) holds for debug enclaves.
    expect(necessaryBox([Op.ATTR, 1, ...atom, Op.AND, Op.NOT])).toEqual(FULL);
    expect(necessaryBox([...eq(7), Op.NOT])).toEqual(FULL);
    expect(necessaryBox([Op.PRODID_CMP, Cmp.NE, 7, ...atom, Op.AND])).toEqual(FULL);
    // Never true: an empty interval, and `or` with it adds nothing.
    expect(necessaryBox([...eq(7), ...eq(9), Op.AND])[0]).toBeGreaterThan(necessaryBox([...eq(7), ...eq(9), Op.AND])[1]);
    expect(necessaryBox([Op.FALSE, ...eq(4), ...atom, Op.AND, Op.OR])).toEqual([4, 4, 0, 65535, 0, 0]);
  });
});
