 import React, { useState, useEffect as useEff } from "react";
import * as api from "./api/client.js";
import type { User } from "../types";

export function App() {
  const [u, setU] = useState<User>();
  useEff(() => { api.fetchUser().then(setU); }, []);
  return u ? u.name : api.
