import { UnprocessableEntityException, ValidationError, ValidationPipe } from '@nestjs/common';
import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const key = prefix ? `${prefix}.${e.property}` : e.property;
    return [
      ...Object.values(e.constraints ?? {}).map((m) => m.replace(e.property, key)),
      ...flatten(e.children ?? [], key),
    ];
  });
}

/** Dragonfly answers bind and validation errors with 422 `{"errors": "<text>"}`. */
export const validationException = (errors: ValidationError[]) =>
  new UnprocessableEntityException({ errors: flatten(errors).join('; ') });

export const validationPipe = new ValidationPipe({
  whitelist: true,
  forbidUnknownValues: false,
  transform: true,
  exceptionFactory: validationException,
});

/** Validates a nested object whose class depends on another field (e.g. job `args` by job `type`). */
export function validateAs<T extends object>(cls: ClassConstructor<T>, value: unknown, prefix: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UnprocessableEntityException({ errors: `${prefix} must be an object` });
  }
  const instance = plainToInstance(cls, value);
  const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: false });
  if (errors.length) throw new UnprocessableEntityException({ errors: flatten(errors, prefix).join('; ') });
  return instance;
}
