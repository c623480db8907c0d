import { NextFunction, Request, Response } from 'express';

/** Deepest JSON any route takes (Harbor's deepest body, a CloudEvents webhook, is 5 levels). */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses parsed JSON bodies that no route could take but that would cost validation or the
 * database dearly: nesting deeper than MAX_BODY_DEPTH, and strings that are not well-formed
 * Unicode (a lone surrogate cannot be stored). Walks iteratively, so depth itself is cheap.
 */
export function bodyShapeGuard(isConversionApi: (req: Request) => boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const problem = shapeProblem(req.body);
    if (!problem) return next();
    if (isConversionApi(req))
      res.status(400).json({ code: 'ERR_ILLEGAL_PARAMETER', message: `invalid webhook payload: ${problem}` });
    else res.status(422).json({ errors: `request body ${problem}` });
  };
}

export function shapeProblem(body: unknown): string | undefined {
  const stack: [unknown, number][] = [[body, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return 'holds a string that is not well-formed Unicode';
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_BODY_DEPTH) return `is nested deeper than ${MAX_BODY_DEPTH} levels`;
      for (const [k, v] of Object.entries(value)) {
        if (!k.isWellFormed()) return 'holds a key that is not well-formed Unicode';
        stack.push([v, depth + 1]);
      }
    }
  }
  return undefined;
}
