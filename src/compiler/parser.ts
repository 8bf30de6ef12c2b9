// Stage 2: tokens → CST. The grammar of SPEC 3.2 as a chevrotain CstParser, and nothing else:
// values are checked by build.ts. Built once at module load and reused.
//
// Error recovery: chevrotain may repair a statement by skipping one stray token or inserting one
// value-less token (see canTokenTypeBeInsertedInRecovery). Otherwise the statement is abandoned
// (chevrotain re-synchronises at the top level) and a `junk` item skips to its end: past the
// next `;`, or up to a line that surely starts a statement (see `startsStatement`). Text that is
// not a statement at all is also a `junk` item. parse.ts decides what of this to report.
import {
  CstParser, EOF, type CstNode, type DSLMethodOpts, type GrammarAction, type IOrAlt, type IParserErrorMessageProvider, type IToken,
  type OrMethodOpts, type TokenType,
} from 'chevrotain';
import { suggest } from './diagnostics.js';
import {
  allTokens, clipImage, describeToken, describeTokenType, isRealToken, startsStatement, keywordTokens,
  AnyToken, Ident, StringLit, UnterminatedString, IntLit, EffectKw, SetKindKw, PathKw, GlobPredKw, IdPredKw, FieldKw,
  AttributeKw, CmpOp, Policy, Version, Import, Default, Audit, Subject, Or, And, Not, Neverallow, Einit, Via, Where,
  Because, In, True, False, DotDot, Eq, Semi, Comma, Star, LBrace, RBrace, LParen, RParen,
} from './lexer.js';

// ---- error messages ---------------------------------------------------------------------------

// Extra keywords worth suggesting when an unknown name stands where a rule's `;` should be.
const OPTIONAL_CONTINUATIONS: Record<string, string[]> = {
  ruleDecl: ['where', 'because', 'via', 'audit'],
  neverallowDecl: ['where', 'via'],
  defaultDecl: ['audit'],
};

function keywordsMatching(types: readonly TokenType[]): string[] {
  const words: string[] = [];
  for (const keyword of keywordTokens) {
    if (types.some((t) => t === keyword || (keyword.CATEGORIES ?? []).includes(t))) words.push(keyword.PATTERN as string);
  }
  return words;
}

function after(previous: IToken | undefined): string {
  if (!isRealToken(previous)) return '';
  const image = clipImage(previous, 30);
  return previous.tokenType === StringLit || previous.tokenType === UnterminatedString ? ` after ${image}` : ` after '${image}'`;
}

/** A hint for a found token: a keyword it may be a typo of, or that a keyword cannot be a name. */
function hint(actual: IToken, expected: readonly TokenType[], ruleName: string): string {
  if (actual.tokenType === Ident) {
    const candidates = keywordsMatching(expected);
    if (expected.includes(Semi)) candidates.push(...(OPTIONAL_CONTINUATIONS[ruleName] ?? []));
    const guess = suggest(actual.image, candidates);
    return guess !== undefined ? ` (did you mean '${guess}'?)` : '';
  }
  if (expected.includes(Ident) && keywordTokens.includes(actual.tokenType)) {
    return ` ('${actual.image}' is a keyword, and keywords cannot be used as names)`;
  }
  return '';
}

function listOf(items: string[]): string {
  const unique = [...new Set(items)];
  if (unique.length <= 1) return unique[0] ?? 'something else';
  return `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
}

function expectedMismatch(expected: TokenType, ruleName: string): string {
  if (expected === RBrace && (ruleName === 'subjects' || ruleName === 'objects')) return "',' or '}'";
  if (expected === RParen) return "')'";
  return describeTokenType(expected);
}

/** Messages in the form `expected X after 'Y', found Z`, with friendly token names. */
export const errorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    return `expected ${expectedMismatch(expected, ruleName)}${after(previous)}, found ${describeToken(actual)}${hint(actual, [expected], ruleName)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `expected a statement, found ${describeToken(firstRedundant)}`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, previous, customUserDescription, ruleName }) {
    const firsts = expectedPathsPerAlt.flatMap((paths) => paths.map((path) => path[0])).filter((t): t is TokenType => t !== undefined);
    const wanted = customUserDescription ?? listOf(firsts.map(describeTokenType));
    const found = actual[0] ?? { image: '', tokenType: EOF, startOffset: NaN };
    return `expected ${wanted}${after(previous)}, found ${describeToken(found as IToken)}${hint(found as IToken, firsts, ruleName)}`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual, previous, customUserDescription, ruleName }) {
    const firsts = expectedIterationPaths.map((path) => path[0]).filter((t): t is TokenType => t !== undefined);
    const wanted = customUserDescription ?? listOf(firsts.map(describeTokenType));
    const found = actual[0] ?? { image: '', tokenType: EOF, startOffset: NaN };
    return `expected ${wanted}${after(previous)}, found ${describeToken(found as IToken)}${hint(found as IToken, firsts, ruleName)}`;
  },
};

const SUBJECT_ATOM = "a subject predicate ('exe', 'label', 'holds', 'uid' or 'gid'), a subject class name, 'not' or '('";
const CONDITION_ATOM =
  "a condition ('isvprodid', 'isvsvn', an attribute such as 'debug', 'signer', 'enclave', 'exe', 'label', 'holds', 'uid', 'gid', 'subject', 'true', 'false', 'not' or '(')";

/** A parse stops after this many syntax errors and `junk` items (see the `file` rule). */
export const MAX_PARSE_ERRORS = 1000;

const INSERTABLE = new Set<TokenType>([Comma, Eq, RBrace, RParen, DotDot, Einit, Version]);

// ---- the grammar --------------------------------------------------------------------------------

export class SgxpolParser extends CstParser {
  /** True right after a statement failed: a new statement may then begin only where one surely starts. */
  private recovering = false;
  /**
   * Where the last parse stopped because it had met `MAX_PARSE_ERRORS` errors (the first token not
   * parsed), or undefined when it read the whole input.
   */
  stoppedAt: IToken | undefined;
  /** `junk` items so far: each is a syntax error too, though not one of chevrotain's. */
  private junkItems = 0;
  /** How many errors chevrotain had recorded when the parse stopped (see `stop`). */
  private errorsAtStop = 0;
  /**
   * chevrotain runs a rule's body on every invocation, so an `OR`'s alternatives or a `MANY` /
   * `OPTION` body written inline would be built anew each time: an object and a closure per
   * alternative, for every statement (over a quarter of all the compiler allocated at 100,000
   * rules, and so of its young-generation collections). Each is built on first use and kept
   * here, under its rule's name. They refer to nothing but `this`.
   */
  private readonly alternatives: { [key: string]: IOrAlt<unknown>[] | OrMethodOpts<unknown> | undefined } = {};
  private readonly bodies: { [key: string]: GrammarAction<unknown> | DSLMethodOpts<unknown> | undefined } = {};

  constructor() {
    super(allTokens, { recoveryEnabled: true, errorMessageProvider: errorMessages, nodeLocationTracking: 'none', maxLookahead: 1 });
    this.performSelfAnalysis();
  }

  /**
   * Single-token insertion is allowed only for tokens that carry no value (`;`, `=`, `)`, …), so a
   * repaired statement is still fully known; anything else is re-synchronised and dropped.
   */
  protected override canTokenTypeBeInsertedInRecovery(tokType: TokenType): boolean {
    // A missing `;` is assumed only before a statement on a new line; otherwise what follows is
    // not a new statement, and inserting would turn one mistake into two reports.
    if (tokType === Semi) return this.atStatementStart();
    return INSERTABLE.has(tokType);
  }

  /** Parses a token vector (see `tokenize`). Returns the `file` CST node; syntax errors are in `errors`. */
  parseTokens(tokens: IToken[]): CstNode {
    this.input = tokens;
    this.recovering = false;
    this.stoppedAt = undefined;
    this.junkItems = 0;
    // Recognition exceptions are control flow for chevrotain's recovery and their stack traces
    // are never read: do not pay for capturing them in a file full of errors.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      const cst = this.file();
      if (this.stoppedAt !== undefined) {
        // chevrotain reports the unread rest as one more error (of one kind or another); the
        // caller reports `stoppedAt` instead.
        this.errors = this.errors.slice(0, this.errorsAtStop);
      }
      return cst;
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
      // The parser outlives the parse: let the tokens go (setting `input` also clears `errors`).
      const errors = this.errors;
      this.input = [];
      this.errors = errors;
    }
  }

  /** The number of errors so far (`errors` is a copy of chevrotain's list). */
  private errorCount(): number {
    return (this as unknown as { _errors?: unknown[] })._errors?.length ?? this.errors.length;
  }

  /**
   * Ends the parse at the next token: records where (unless nothing is left to read) and how
   * many errors there were, and returns false for the `file` rule's gate.
   */
  private stop(): boolean {
    const next = this.LA(1);
    if (this.stoppedAt === undefined && isRealToken(next)) {
      this.stoppedAt = next;
      this.errorsAtStop = this.errorCount();
    }
    return false;
  }

  private atStatementStart(): boolean {
    return startsStatement(this.LA(0), this.LA(1), this.LA(2), this.LA(3));
  }

  // file = { statement } ;   (plus `junk` items, so that one bad statement does not end the parse)
  // After MAX_PARSE_ERRORS errors the rest is not parsed: recovering from each error costs far
  // more than parsing a statement, and a file of broken statements could take minutes and
  // gigabytes to no purpose (at most MAX_SYNTAX_DIAGNOSTICS of them are reported).
  public file = this.RULE('file', () => {
    this.MANY(this.bodies.fileMany ??= {
      GATE: () => this.errorCount() + this.junkItems < MAX_PARSE_ERRORS || this.stop(),
      DEF: () => {
        const item = this.SUBRULE(this.topLevel);
        this.ACTION(() => {
          this.recovering = item.recoveredNode === true;
        });
      },
    });
  });

  private topLevel = this.RULE('topLevel', () => {
    this.OR(this.alternatives.topLevel ??= {
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { GATE: () => !this.recovering || this.atStatementStart(), ALT: () => this.SUBRULE(this.statement) },
        { ALT: () => this.SUBRULE(this.junk) },
      ],
    });
  });

  /** Tokens that are not a statement: up to and including the next `;`, or up to a line that starts a statement. */
  private junk = this.RULE('junk', () => {
    this.CONSUME(AnyToken);
    this.ACTION(() => {
      this.junkItems++;
    });
    this.MANY(this.bodies.junkMany ??= {
      GATE: () => this.LA(0).tokenType !== Semi && !this.atStatementStart(),
      DEF: () => this.CONSUME2(AnyToken),
    });
  });

  private statement = this.RULE('statement', () => {
    this.OR(this.alternatives.statement ??= [
      { ALT: () => this.SUBRULE(this.policyDecl) },
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.defaultDecl) },
      { ALT: () => this.SUBRULE(this.setDecl) },
      { ALT: () => this.SUBRULE(this.subjectDecl) },
      { ALT: () => this.SUBRULE(this.ruleDecl) },
      { ALT: () => this.SUBRULE(this.neverallowDecl) },
    ]);
  });

  // policy_decl = "policy" STRING "version" INT ";" ;
  private policyDecl = this.RULE('policyDecl', () => {
    this.CONSUME(Policy);
    this.CONSUME(StringLit);
    this.CONSUME(Version);
    this.CONSUME(IntLit);
    this.CONSUME(Semi);
  });

  // import_decl = "import" STRING ";" ;
  private importDecl = this.RULE('importDecl', () => {
    this.CONSUME(Import);
    this.CONSUME(StringLit);
    this.CONSUME(Semi);
  });

  // default_decl = "default" effect [ "audit" ] ";" ;
  private defaultDecl = this.RULE('defaultDecl', () => {
    this.CONSUME(Default);
    this.CONSUME(EffectKw);
    this.OPTION(this.bodies.defaultDeclOption ??= () => this.CONSUME(Audit));
    this.CONSUME(Semi);
  });

  // signer_decl / enclave_decl = ( "signer" | "enclave" ) IDENT "=" meas_item { "," meas_item } ";" ;
  private setDecl = this.RULE('setDecl', () => {
    this.CONSUME(SetKindKw);
    this.CONSUME(Ident);
    this.CONSUME(Eq);
    this.SUBRULE(this.measItem);
    this.MANY(this.bodies.setDeclMany ??= () => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.measItem);
    });
    this.CONSUME(Semi);
  });

  // meas_item = STRING | IDENT ;
  private measItem = this.RULE('measItem', () => {
    this.OR(this.alternatives.measItem ??= {
      ERR_MSG: 'a measurement string or the name of a set',
      DEF: [{ ALT: () => this.CONSUME(StringLit) }, { ALT: () => this.CONSUME(Ident) }],
    });
  });

  // subject_decl = "subject" IDENT "=" subj_expr ";" ;
  private subjectDecl = this.RULE('subjectDecl', () => {
    this.CONSUME(Subject);
    this.CONSUME(Ident);
    this.CONSUME(Eq);
    this.SUBRULE(this.subjExpr);
    this.CONSUME(Semi);
  });

  // subj_expr = subj_and { "or" subj_and } ;
  private subjExpr = this.RULE('subjExpr', () => {
    this.SUBRULE(this.subjAnd);
    this.MANY(this.bodies.subjExprMany ??= () => {
      this.CONSUME(Or);
      this.SUBRULE2(this.subjAnd);
    });
  });

  // subj_and = subj_unary { "and" subj_unary } ;
  private subjAnd = this.RULE('subjAnd', () => {
    this.SUBRULE(this.subjUnary);
    this.MANY(this.bodies.subjAndMany ??= () => {
      this.CONSUME(And);
      this.SUBRULE2(this.subjUnary);
    });
  });

  // subj_unary = "not" subj_unary | subj_atom ;   parsed as   { "not" } ( subj_atom | "(" subj_expr ")" )
  // The same language; a `not` chain is a loop, and each level of parentheses costs one rule
  // less stack (see MAX_NESTING in parse.ts).
  private subjUnary = this.RULE('subjUnary', () => {
    this.MANY(this.bodies.subjUnaryMany ??= () => this.CONSUME(Not));
    this.OR(this.alternatives.subjUnary ??= {
      ERR_MSG: SUBJECT_ATOM,
      DEF: [
        { ALT: () => this.SUBRULE(this.subjAtom) },
        {
          ALT: () => {
            this.CONSUME(LParen);
            this.SUBRULE(this.subjExpr);
            this.CONSUME(RParen);
          },
        },
      ],
    });
  });

  // subj_atom = subj_pred | IDENT ;   (the parenthesised alternative is in subjUnary)
  private subjAtom = this.RULE('subjAtom', () => {
    this.OR(this.alternatives.subjAtom ??= [{ ALT: () => this.SUBRULE(this.subjPred) }, { ALT: () => this.CONSUME(Ident) }]);
  });

  // subj_pred = ( "exe" | "label" | "holds" ) STRING | ( "uid" | "gid" ) int_set ;
  // int_set   = INT [ ".." INT ] ;
  private subjPred = this.RULE('subjPred', () => {
    this.OR(this.alternatives.subjPred ??= [
      {
        ALT: () => {
          this.CONSUME(GlobPredKw);
          this.CONSUME(StringLit);
        },
      },
      {
        ALT: () => {
          this.CONSUME(IdPredKw);
          this.CONSUME(IntLit);
          this.OPTION(this.bodies.subjPredOption ??= () => {
            this.CONSUME(DotDot);
            this.CONSUME2(IntLit);
          });
        },
      },
    ]);
  });

  // rule = effect [ "audit" ] subjects action [ "via" path ] objects [ "where" cond ] [ "because" STRING ] ";" ;
  private ruleDecl = this.RULE('ruleDecl', () => {
    this.CONSUME(EffectKw);
    this.OPTION(this.bodies.ruleDeclOption ??= () => this.CONSUME(Audit));
    this.SUBRULE(this.subjects);
    this.CONSUME(Einit);
    this.OPTION2(this.bodies.ruleDeclOption2 ??= () => {
      this.CONSUME(Via);
      this.CONSUME(PathKw);
    });
    this.SUBRULE(this.objects);
    this.OPTION3(this.bodies.ruleDeclOption3 ??= () => {
      this.CONSUME(Where);
      this.SUBRULE(this.cond);
    });
    this.OPTION4(this.bodies.ruleDeclOption4 ??= () => {
      this.CONSUME(Because);
      this.CONSUME(StringLit);
    });
    this.CONSUME(Semi);
  });

  // neverallow = "neverallow" subjects action [ "via" path ] objects [ "where" cond ] ";" ;
  private neverallowDecl = this.RULE('neverallowDecl', () => {
    this.CONSUME(Neverallow);
    this.SUBRULE(this.subjects);
    this.CONSUME(Einit);
    this.OPTION(this.bodies.neverallowDeclOption ??= () => {
      this.CONSUME(Via);
      this.CONSUME(PathKw);
    });
    this.SUBRULE(this.objects);
    this.OPTION2(this.bodies.neverallowDeclOption2 ??= () => {
      this.CONSUME(Where);
      this.SUBRULE(this.cond);
    });
    this.CONSUME(Semi);
  });

  // subjects = "*" | IDENT | "{" IDENT { "," IDENT } "}" ;
  private subjects = this.RULE('subjects', () => {
    this.OR(this.alternatives.subjects ??= {
      ERR_MSG: "'*', a subject class name or a '{…}' list of them",
      DEF: [
        { ALT: () => this.CONSUME(Star) },
        { ALT: () => this.CONSUME(Ident) },
        {
          ALT: () => {
            this.CONSUME(LBrace);
            this.CONSUME2(Ident);
            this.MANY(this.bodies.subjectsMany ??= () => {
              this.CONSUME(Comma);
              this.CONSUME3(Ident);
            });
            this.CONSUME(RBrace);
          },
        },
      ],
    });
  });

  // objects = "*" | object | "{" object { "," object } "}" ;
  private objects = this.RULE('objects', () => {
    this.OR(this.alternatives.objects ??= {
      ERR_MSG: "'*', 'signer', 'enclave' or a '{…}' list",
      DEF: [
        { ALT: () => this.CONSUME(Star) },
        { ALT: () => this.SUBRULE(this.object) },
        {
          ALT: () => {
            this.CONSUME(LBrace);
            this.SUBRULE2(this.object);
            this.MANY(this.bodies.objectsMany ??= () => {
              this.CONSUME(Comma);
              this.SUBRULE3(this.object);
            });
            this.CONSUME(RBrace);
          },
        },
      ],
    });
  });

  // object = ( "signer" | "enclave" ) ( IDENT | STRING ) ;
  private object = this.RULE('object', () => {
    this.CONSUME(SetKindKw);
    this.OR(this.alternatives.object ??= {
      ERR_MSG: 'a signer or enclave name or a measurement string',
      DEF: [{ ALT: () => this.CONSUME(Ident) }, { ALT: () => this.CONSUME(StringLit) }],
    });
  });

  // cond = cond_and { "or" cond_and } ;
  private cond = this.RULE('cond', () => {
    this.SUBRULE(this.condAnd);
    this.MANY(this.bodies.condMany ??= () => {
      this.CONSUME(Or);
      this.SUBRULE2(this.condAnd);
    });
  });

  // cond_and = cond_unary { "and" cond_unary } ;
  private condAnd = this.RULE('condAnd', () => {
    this.SUBRULE(this.condUnary);
    this.MANY(this.bodies.condAndMany ??= () => {
      this.CONSUME(And);
      this.SUBRULE2(this.condUnary);
    });
  });

  // cond_unary = "not" cond_unary | cond_atom ;   parsed as   { "not" } ( cond_atom | "(" cond ")" )
  private condUnary = this.RULE('condUnary', () => {
    this.MANY(this.bodies.condUnaryMany ??= () => this.CONSUME(Not));
    this.OR(this.alternatives.condUnary ??= {
      ERR_MSG: CONDITION_ATOM,
      DEF: [
        { ALT: () => this.SUBRULE(this.condAtom) },
        {
          ALT: () => {
            this.CONSUME(LParen);
            this.SUBRULE(this.cond);
            this.CONSUME(RParen);
          },
        },
      ],
    });
  });

  // cond_atom = ( "isvprodid" | "isvsvn" ) ( cmp INT | "in" INT ".." INT ) | attribute | object | subj_pred
  //           | "subject" IDENT | "true" | "false" ;   (the parenthesised alternative is in condUnary)
  private condAtom = this.RULE('condAtom', () => {
    this.OR(this.alternatives.condAtom ??= {
      DEF: [
        {
          ALT: () => {
            this.CONSUME(FieldKw);
            this.OR2(this.alternatives.condAtomComparison ??= {
              ERR_MSG: "a comparison ('==', '!=', '<', '<=', '>' or '>=') or 'in'",
              DEF: [
                {
                  ALT: () => {
                    this.CONSUME(CmpOp);
                    this.CONSUME(IntLit);
                  },
                },
                {
                  ALT: () => {
                    this.CONSUME(In);
                    this.CONSUME2(IntLit);
                    this.CONSUME(DotDot);
                    this.CONSUME3(IntLit);
                  },
                },
              ],
            });
          },
        },
        { ALT: () => this.CONSUME(AttributeKw) },
        { ALT: () => this.SUBRULE(this.object) },
        { ALT: () => this.SUBRULE(this.subjPred) },
        {
          ALT: () => {
            this.CONSUME(Subject);
            this.CONSUME(Ident);
          },
        },
        { ALT: () => this.CONSUME(True) },
        { ALT: () => this.CONSUME(False) },
      ],
    });
  });
}

/** The one parser instance (chevrotain parsers are built once and reused; parsing is synchronous). */
export const parser = new SgxpolParser();
