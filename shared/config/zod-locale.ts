import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini (a fraction of zod's size: it is part of every SCF bundle's cold start) ships no
// messages; the English ones read "Invalid input: expected string, received number".
z.config(en());
